/* fixtures.h — the event and the customer that the condition and template
 * tests evaluate against, and their moment. */
#ifndef NUDGED_TEST_FIXTURES_H
#define NUDGED_TEST_FIXTURES_H

static const char *const FIXTURE_EVENT =
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"properties\":{\"price\":25,\"total\":20.0,"
    "\"path\":\"/pricing/pro\",\"tags\":[\"a\",\"b\"],\"name\":\"Blue Shoe\"}}";
static const char *const FIXTURE_CUSTOMER =
    "{\"id\":\"u1\",\"group\":\"active\",\"traits\":{\"email\":\"z@example.com\",\"vip\":true},"
    "\"last_seen\":\"2026-11-22T09:00:00Z\",\"events\":{\"Order Completed\":{\"count\":3}}}";
#define FIXTURE_NOW_MS 1795341600000LL /* 2026-11-22T10:00:00Z */

#endif
