"""The integration tests' runner: every tests/integration/test_*.py module
lists its tests in TESTS; a test that takes an argument gets an Env of its
own (a redis-server and a webhook receiver on free ports), closed after it
whatever happens. Run all, or some by test or module name:

  NUDGED_BIN=build/nudged /usr/bin/python3 tests/integration/run.py [NAME...]
"""
import glob, importlib, inspect, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Env, run_tests


def with_env(test):
    """TEST(env) as a test that makes and closes its own Env."""
    def run():
        env = Env()
        try:
            test(env)
        finally:
            env.close(keep=bool(os.environ.get("KEEP_TEST_DIRS")))
    run.__name__ = test.__name__
    return run


def modules():
    """The test modules, the command line's first (it needs no Redis and
    fails fastest on a broken build), then by name."""
    here = os.path.dirname(os.path.abspath(__file__))
    names = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(here, "test_*.py")))
    names.sort(key=lambda n: n != "test_cli")
    return [importlib.import_module(n) for n in names]


def collect(only):
    tests = []
    for m in modules():
        for t in m.TESTS:
            if only and t.__name__ not in only and m.__name__ not in only:
                continue
            tests.append(with_env(t) if inspect.signature(t).parameters else t)
    return tests


if __name__ == "__main__":
    only = sys.argv[1:]
    sys.argv[1:] = []  # run_tests filters by argv too; the selection is made here
    sys.exit(run_tests(collect(only)))
