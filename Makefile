# nudged — one plain Makefile. `make` builds build/nudged; `make check` runs
# every test (also under ASan+UBSan); `make demo` shows it working.
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
VERSION := 0.1.0

CC      ?= cc
PKGS    := libevent hiredis libcurl jansson libcrypto inih
WARN    := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wundef -Wwrite-strings \
           -Wno-format-truncation
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude \
           -DNUDGED_VERSION=\"$(VERSION)\" -MMD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

ifdef SANITIZER
ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZER)
endif

TRIG_SRC   := $(wildcard triggers/*.c)
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
TRIG_OBJ   := $(TRIG_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit integration sanitize demo install clean format format-check bench fuzz

all: $(BUILD)/nudged

$(BUILD)/nudged: $(BUILD)/daemon/main.o $(DAEMON_OBJ) $(TRIG_OBJ)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h $(DAEMON_OBJ) $(TRIG_OBJ)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(DAEMON_OBJ) $(TRIG_OBJ) $(LDFLAGS) $(LIBS)

$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) $(LIBS)

bench: deps all $(BUILD)/bench/receiver $(BUILD)/bench/baseline
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) BENCH_DIR=$(abspath $(BUILD)/bench) /usr/bin/python3 tests/bench/bench.py

deps:
	@bash scripts/deps.sh

unit: $(UNIT_BIN)
	@bash tests/unit/run.sh $(UNIT_BIN)

integration: $(BUILD)/nudged
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) /usr/bin/python3 tests/integration/run.py

# The same tests against a build with AddressSanitizer (with LeakSanitizer)
# and UndefinedBehaviorSanitizer; a leak at exit fails the daemon's exit code.
sanitize:
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZER=address,undefined CFLAGS="-O1 -g" all unit integration

check: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/check-config-doc.sh
	@bash scripts/verify-unit.sh
	@$(MAKE) --no-print-directory unit integration
	@$(MAKE) --no-print-directory sanitize
	@echo "make check: all passed"

demo: deps all
	@bash scripts/demo.sh

install: $(BUILD)/nudged
	install -D -m 0755 $(BUILD)/nudged $(DESTDIR)$(PREFIX)/bin/nudged
	@mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/bin/nudged|$(PREFIX)/bin/nudged|g' systemd/nudged.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/nudged.service
	install -D -m 0640 config/nudged.conf $(DESTDIR)/etc/nudged/nudged.conf
	install -d $(DESTDIR)/etc/nudged/triggers.d

format:
	clang-format -i daemon/*.c triggers/*.c include/*.h tests/unit/*.c tests/unit/*.h

format-check:
	clang-format --dry-run --Werror daemon/*.c triggers/*.c include/*.h tests/unit/*.c tests/unit/*.h

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
