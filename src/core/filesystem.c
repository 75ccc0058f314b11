/* The filesystem assembled: the catalog with the layers above it hooked in.
 * The one file that names every layer; nothing calls up into it. */
#include "config.h"

#include "catalog_impl.h"
#include "handles.h"
#include "persist.h"
#include "views.h"

/* Frees the handles, then the views, before the catalog frees the rest. */
static void teardown(struct tfs_fs *fs)
{
	tfs_handles_free(fs);
	while (fs->views) {
		fs->views->linked = false;
		fs->views->nlookup = fs->views->nopen = 0;
		tfs_view_free(fs, fs->views);
	}
}

static const struct tfs_layers layers = {
	.save_extent = tfs_persist_extent,
	.save_table = tfs_persist_table,
	.save_root = tfs_persist_root,
	.drop = tfs_persist_drop,
	.view_lookup = tfs_view_lookup,
	.view_retire = tfs_view_retire,
	.view_free = tfs_view_free,
	.view_hollow = tfs_view_hollow,
	.view_size = tfs_view_size,
	.generated_size = tfs_generated_size,
	.meta_truncate = tfs_meta_truncate,
	.teardown = teardown,
};

int tfs_fs_new(const struct tfs_config *cfg, struct tfs_fs **out)
{
	return tfs_catalog_new(cfg, &layers, out);
}

void tfs_fs_free(struct tfs_fs *fs)
{
	tfs_catalog_free(fs);
}
