/* template.h — "{{path}}", "{{path | default: \"x\"}}" and the filters
 * upcase, downcase, capitalize, url_encode (SPEC 3). Compiled at load,
 * rendered with the escaping of where the output lands. */
#ifndef NUDGED_TEMPLATE_H
#define NUDGED_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "errlist.h"
#include "path.h"

enum template_escape {
    TEMPLATE_TEXT,   /* as is: JSON bodies (jansson escapes them), plain-text mail */
    TEMPLATE_URL,    /* inserted values are percent-encoded; templates only after the host */
    TEMPLATE_HTML,   /* inserted values are HTML-escaped */
    TEMPLATE_HEADER, /* a control character in the output fails the render */
};

struct template;

/* Compiles TEXT for ESCAPE. Returns the template (caller frees with
 * template_free), or NULL after reporting the problem through D at PATH. */
struct template *template_compile(const char *text, enum template_escape escape, const char *path,
                                  const struct diag *d);

/* Renders T in CTX. Returns a malloc'd string the caller frees, or NULL with
 * a reason in ERR (a header value that would carry a control character). */
char *template_render(const struct template *t, const struct eval_ctx *ctx, char *err, size_t errlen);

/* When T is exactly one "{{path}}" without filters, the value it names
 * (borrowed; NULL when absent), so a JSON body keeps numbers as numbers.
 * Sets *WHOLE to 0 for any other template. */
json_t *template_whole_value(const struct template *t, const struct eval_ctx *ctx, int *whole);

void template_free(struct template *t);

#endif
