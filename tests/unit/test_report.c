/* test_report.c — the report of goals and holdouts: its JSON (GET
 * /v1/triggers) from the measured triggers' counts, and its text
 * (`nudged report`), which docs/triggers.md shows. */
#include "errlist.h"
#include "harness.h"
#include "report.h"
#include "trigger.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *triggers_text =
    "[{\"id\": \"abandoned-cart\", \"description\": \"Remind shoppers\", \"on\": \"Product Added\", "
    "\"goal\": {\"event\": \"Order Completed\", \"within\": \"3d\"}, \"holdout\": \"10%\", " HARNESS_HOOK "},"
    " {\"id\": \"plain\", \"on\": \"X\", " HARNESS_HOOK "},"
    " {\"id\": \"new\", \"on\": \"Y\", \"holdout\": \"2.5%\", \"goal\": {\"event\": \"Z\", \"within\": "
    "\"1d\"}, " HARNESS_HOOK "}]";

static void test_json_and_text(void)
{
    struct errlist errs = {0};
    struct trigger_set *set = trigger_set_load_text("t.json", triggers_text, &harness_files, &errs);
    CHECK(set != NULL, "the triggers load");
    json_t *counts = json_pack("{s:{s:i, s:i, s:i, s:i}}", "abandoned-cart", "t", 1234, "h", 137, "ct", 152, "ch", 11);
    json_t *rep = report_json(set, counts, NULL, 0);
    json_t *list = json_object_get(rep, "triggers"), *a = json_array_get(list, 0);
    CHECK(json_array_size(list) == 3, "every trigger");
    CHECK(json_integer_value(json_object_get(a, "fired")) == 1234 &&
              json_integer_value(json_object_get(a, "held_out")) == 137,
          "the counts");
    json_t *up = json_object_get(a, "uplift"), *ci = json_object_get(up, "ci95");
    CHECK(fabs(json_real_value(json_object_get(up, "value")) - (152.0 / 1234 - 11.0 / 137)) < 1e-12, "the uplift");
    CHECK(fabs(json_real_value(json_array_get(ci, 0)) + 0.017378) < 5e-6 &&
              fabs(json_real_value(json_array_get(ci, 1)) - 0.082843) < 5e-6,
          "Newcombe's interval");
    CHECK_STR(json_string_value(json_object_get(a, "holdout")), "10%", "the holdout as written");
    json_t *plain = json_array_get(list, 1), *fresh = json_array_get(list, 2);
    CHECK(json_is_null(json_object_get(plain, "fired")) && json_is_false(json_object_get(plain, "measured")),
          "a trigger without goal or holdout is not counted");
    CHECK(json_integer_value(json_object_get(fresh, "fired")) == 0 &&
              json_is_null(json_object_get(json_object_get(fresh, "conversion_rate"), "treated")) &&
              json_is_null(json_object_get(json_object_get(fresh, "uplift"), "value")),
          "no firings yet: no rates, no uplift");
    CHECK_STR(json_string_value(json_object_get(fresh, "holdout")), "2.5%", "a share with a decimal");

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    report_print(out, rep);
    fclose(out);
    CHECK_STR(text,
              "abandoned-cart: Remind shoppers\n"
              "  fired 1234, held out 137 (holdout 10%)\n"
              "  treated     12.3 % converted (152 of 1234)\n"
              "  held out     8.0 % converted (11 of 137)\n"
              "  uplift      +4.3 points, 95 % interval -1.7 to +8.3 (Newcombe)\n"
              "  verdict   no evidence yet\n\n"
              "plain\n"
              "  not measured: give it a goal (and a holdout) to count its firings\n\n"
              "new\n"
              "  fired 0, held out 0 (holdout 2.5%)\n"
              "  treated        - (no firings)\n"
              "  held out       - (no firings)\n"
              "  verdict   no comparison yet: both groups need firings (a holdout makes the second)\n\n",
              "the text (docs/triggers.md shows its first block)");
    free(text);
    char plain_id[] = "plain", *only[] = {plain_id};
    json_t *one = report_json(set, counts, only, 1);
    CHECK(json_array_size(json_object_get(one, "triggers")) == 1, "the triggers asked for");
    json_decref(one);
    json_decref(rep);
    json_decref(counts);
    trigger_set_free(set);
    errlist_clear(&errs);
}

int main(void)
{
    test_json_and_text();
    return harness_summary("test_report");
}
