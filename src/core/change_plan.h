/* Schema-change planning: from the current columns and a written document to
 * the list of actions that applies it, or the reason it cannot be applied.
 * Pure: allocates nothing but the plan, touches no storage. */
#ifndef TABLEFS_CHANGE_PLAN_H
#define TABLEFS_CHANGE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

enum tfs_action {
	TFS_KEEP, /* existing file, same size: nothing to do */
	TFS_RESIZE, /* existing file, new size: new extent, copy */
	TFS_CREATE, /* file of a new column: filled as new */
};

/* One file of one column. */
struct tfs_plan_item {
	enum tfs_action action;
	size_t col; /* index into plan->after */
	enum tfs_role role;
	uint64_t old_bytes, new_bytes;
};

struct tfs_plan {
	uint64_t rows; /* row count after the change */
	/* The columns after the change: the ncur current ones first, in
	 * order, then the new ones.  doc[k] is the index into doc->cols of
	 * the document's entry for column k, or SIZE_MAX. */
	size_t ncols;
	struct tfs_coldef *after;
	size_t *doc;
	size_t nitems; /* files of the columns, in column order */
	struct tfs_plan_item *items;
	uint64_t release; /* memory charge of the extents replaced */
	uint64_t add; /* memory charge of the extents created */
	int changes; /* 0 when applying the document changes nothing */
};

/* Plans applying doc to a table with ncur columns cur and cur_rows rows, with
 * used of limit bytes of memory in use.  held[i * TFS_NROLES + r] (held
 * NULL: none) says that the file of role r of column i stays allocated when
 * replaced (an open handle or a mapping holds it), so that a resize frees
 * none of its memory.  Returns 0, -EINVAL (type, shape or nullability
 * change of an existing column, categories taken away) or -ENOSPC (over the
 * limit), with the reason in why. */
int tfs_plan_make(const struct tfs_coldef *const *cur, const bool *held, size_t ncur,
		  uint64_t cur_rows, const struct tfs_doc *doc, uint64_t used, uint64_t limit,
		  struct tfs_plan *plan, char *why, size_t whylen);

/* Frees the plan's items and columns. */
void tfs_plan_free(struct tfs_plan *plan);

#endif
