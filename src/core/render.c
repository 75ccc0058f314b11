/* Rendering of the generated files: a table's meta.json and the root's
 * .status, as JSON text.  Reads the catalog under its lock, changes nothing
 * but the length cache of meta.json. */
#include "config.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "catalog_impl.h"
#include "log.h"
#include "render.h"
#include "schema.h"

char *tfs_render_meta(struct table *t, size_t *len)
{
	const struct tfs_coldef **defs = malloc((t->ncols + 1) * sizeof(*defs));
	struct tfs_dict_view *dicts = calloc(t->ncols + 1, sizeof(*dicts));
	char *out = NULL;

	if (!defs || !dicts)
		goto out;
	for (size_t i = 0; i < t->ncols; i++) {
		const struct column *c = t->cols[i];
		defs[i] = &c->def;
		/* read-only files the daemon wrote: valid by construction */
		if (c->file[TFS_ROLE_DICT]) {
			dicts[i].offsets = c->file[TFS_ROLE_DICT]->store.map;
			dicts[i].bytes = c->file[TFS_ROLE_DICT_DATA]->store.map;
		}
	}
	out = tfs_meta_render(t->name, t->rows, t->version, defs, dicts, t->ncols, len);
out:
	free(defs);
	free(dicts);
	if (out) {
		t->meta_len = *len;
		t->meta_len_version = t->version;
	}
	return out;
}

static void status_table(const void *p, VISIT which, void *ctx)
{
	const struct table *t = *(struct table *const *)p;
	cJSON *o;
	uint64_t bytes = 0;

	if (which != postorder && which != leaf)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		for (int r = 0; r < TFS_NROLES; r++)
			if (t->cols[i]->file[r])
				bytes += t->cols[i]->file[r]->charge;
	o = cJSON_CreateObject();
	if (!o)
		return;
	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddNumberToObject(o, "rows", (double)t->rows);
	cJSON_AddNumberToObject(o, "columns", (double)t->ncols);
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	cJSON_AddNumberToObject(o, "version", (double)t->version);
	cJSON_AddNumberToObject(o, "open_handles", (double)t->open_handles);
	if (t->last_error[0])
		cJSON_AddStringToObject(o, "last_error", t->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	cJSON_AddItemToArray(ctx, o);
}

char *tfs_render_status(struct tfs_fs *fs, size_t *len)
{
	cJSON *root = cJSON_CreateObject(), *mem, *tables;
	char *out = NULL;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "format", TFS_FORMAT);
	cJSON_AddStringToObject(root, "version", PACKAGE_VERSION);
	const char *mode = "", *why = "";
	if (fs->cfg.hooks.data_path)
		fs->cfg.hooks.data_path(fs->cfg.hooks.ctx, &mode, &why);
	cJSON_AddStringToObject(root, "data_path", mode);
	cJSON_AddStringToObject(root, "data_path_reason", why);
	mem = cJSON_AddObjectToObject(root, "memory");
	if (mem) {
		cJSON_AddNumberToObject(mem, "limit", (double)fs->cfg.mem_limit);
		cJSON_AddNumberToObject(mem, "used", (double)fs->mem_used);
	}
	/* Each column extent is an open memfd: the open file limit is the
	 * number of column files the tables may have. */
	cJSON *cols = cJSON_AddObjectToObject(root, "column_files");
	if (cols) {
		if (fs->cfg.max_extents)
			cJSON_AddNumberToObject(cols, "limit", (double)fs->cfg.max_extents);
		else
			cJSON_AddNullToObject(cols, "limit");
		cJSON_AddNumberToObject(cols, "used", (double)fs->nextents);
	}
	cJSON_AddNumberToObject(root, "internal_errors", (double)tfs_log_errors());
	/* Restarts of the serving process, and whether the next would lose
	 * nothing: with protection lost, a crash ends the mount. */
	const char *unprotected = "no supervisor";
	bool prot = fs->cfg.hooks.crash_protection &&
		    fs->cfg.hooks.crash_protection(fs->cfg.hooks.ctx, &unprotected);
	cJSON_AddBoolToObject(root, "crash_protection", prot);
	cJSON_AddStringToObject(root, "crash_protection_reason", prot ? "" : unprotected);
	cJSON_AddNumberToObject(root, "restarts", (double)fs->cfg.epoch);
	/* Column reads and writes the daemon served itself: under
	 * passthrough the kernel serves them all and these stay 0. */
	cJSON *io = cJSON_AddObjectToObject(root, "served_io");
	if (io) {
		cJSON_AddNumberToObject(io, "reads", (double)atomic_load(&fs->reads));
		cJSON_AddNumberToObject(io, "read_bytes", (double)atomic_load(&fs->read_bytes));
		cJSON_AddNumberToObject(io, "writes", (double)atomic_load(&fs->writes));
		cJSON_AddNumberToObject(io, "write_bytes", (double)atomic_load(&fs->write_bytes));
	}
	tables = cJSON_AddArrayToObject(root, "tables");
	if (tables)
		twalk_r(fs->tables, status_table, tables);
	out = cJSON_Print(root);
	cJSON_Delete(root);
	if (!out)
		return NULL;
	*len = strlen(out);
	/* A trailing newline, as text files have. */
	char *nl = realloc(out, *len + 2);
	if (!nl) {
		free(out);
		return NULL;
	}
	nl[(*len)++] = '\n';
	nl[*len] = '\0';
	return nl;
}
