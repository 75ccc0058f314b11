/* tablectl's text tables (ls, status, info, head): cells gathered first,
 * then printed in aligned columns. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

void ctl_grid_put(struct ctl_grid *g, const char *cell)
{
	char **nc;

	if (g->ncells == g->cap) {
		nc = realloc(g->cells, (g->cap ? g->cap * 2 : 64) * sizeof(*nc));
		if (!nc) {
			g->oom = true;
			return;
		}
		g->cells = nc;
		g->cap = g->cap ? g->cap * 2 : 64;
	}
	g->cells[g->ncells] = strdup(cell);
	if (g->cells[g->ncells])
		g->ncells++;
	else
		g->oom = true;
}

void ctl_grid_putf(struct ctl_grid *g, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ctl_grid_put(g, buf);
}

void ctl_grid_free(struct ctl_grid *g)
{
	for (size_t i = 0; i < g->ncells; i++)
		free(g->cells[i]);
	free(g->cells);
	memset(g, 0, sizeof(*g));
}

/* Columns a cell takes on a terminal: one per UTF-8 character (cells are
 * valid UTF-8, see ctl_format_item; wide characters are not told apart). */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int ctl_grid_flush(struct ctl_grid *g)
{
	size_t *w = calloc(g->ncols, sizeof(*w)), c, l;
	bool right;
	int rc = -1;

	if (!w || g->oom) {
		ctl_err(NULL, "%s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < g->ncells; i++) {
		l = text_width(g->cells[i]);
		if (l > w[i % g->ncols])
			w[i % g->ncols] = l;
	}
	for (size_t i = 0; i < g->ncells; i++) {
		c = i % g->ncols;
		right = c < 16 && g->right[c];
		l = w[c] - text_width(g->cells[i]);
		if (c == g->ncols - 1 && !right)
			printf("%s\n", g->cells[i]);
		else
			printf("%*s%s%*s%s", right ? (int)l : 0, "", g->cells[i], right ? 0 : (int)l,
			       "", c == g->ncols - 1 ? "\n" : "  ");
	}
	rc = 0;
out:
	ctl_grid_free(g);
	free(w);
	return rc;
}

