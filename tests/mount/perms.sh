#!/bin/sh
# perms: chmod/chown of tables and columns show in stat; meta.json mirrors
# its table (owner, mode & 0666) and refuses a chmod/chown of its own (one
# to the values it has is a no-op); new columns get the writer's uid/gid and
# the table's mode & 0666.  As root, a second
# mount with -o allow_other checks what other users may do (sticky root,
# mode bits enforced by default_permissions).
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
T=$MNT/p
META=$T/meta.json
umask 022
mkdir "$T" || fatal "mkdir $T"
expect_ok colcheck meta "$META" '{"rows": 4, "columns": [{"name": "x", "type": "int32"}]}'

section "new tables and columns"
check_eq "table mode (mkdir, umask 022)" 755 "$(stat -c %a "$T")"
check_eq "table owner" "$(id -u):$(id -g)" "$(stat -c %u:%g "$T")"
check_eq "meta.json mode = table mode & 0666" 644 "$(stat -c %a "$META")"
check_eq "column mode = table mode & 0666" 644 "$(stat -c %a "$T/x")"
check_eq "column owner = writer" "$(id -u):$(id -g)" "$(stat -c %u:%g "$T/x")"

section "chmod and chown of a table; meta.json follows"
check "chmod 750 table" chmod 750 "$T"
check_eq "table mode" 750 "$(stat -c %a "$T")"
check_eq "meta.json mode" 640 "$(stat -c %a "$META")"
check "chmod 700 table" chmod 700 "$T"
check_eq "meta.json mode after 700" 600 "$(stat -c %a "$META")"
expect_ok colcheck meta "$META" '{"columns": [{"name": "y", "type": "int8"}]}'
check_eq "a new column in a 700 table" 600 "$(stat -c %a "$T/y")"
check_eq "an old column keeps its mode" 644 "$(stat -c %a "$T/x")"
if [ "$(id -u)" = 0 ]; then
	check "chown 1234:2345 table" chown 1234:2345 "$T"
	check_eq "table owner" 1234:2345 "$(stat -c %u:%g "$T")"
	check_eq "meta.json owner follows" 1234:2345 "$(stat -c %u:%g "$META")"
	check "chown 4321:5432 column" chown 4321:5432 "$T/x"
	check_eq "column owner" 4321:5432 "$(stat -c %u:%g "$T/x")"
	check "chgrp column" chgrp 77 "$T/x"
	check_eq "column group" 4321:77 "$(stat -c %u:%g "$T/x")"
	check "chown back" chown 0:0 "$T" "$T/x"
else
	note "not root: chown of others' ids not tested"
fi
check "chmod 640 column" chmod 640 "$T/x"
check_eq "column mode" 640 "$(stat -c %a "$T/x")"
check "chmod 755 table" chmod 755 "$T"
check_eq "meta.json mode after 755" 644 "$(stat -c %a "$META")"
expect_errno EPERM colcheck chmod "$META" 600
expect_errno EPERM colcheck chown "$META" 1234 1234
expect_ok colcheck chmod "$META" 644
expect_ok colcheck chown "$META" "$(stat -c %u "$META")" "$(stat -c %g "$META")"
check_eq "meta.json mode after a refused chmod" 644 "$(stat -c %a "$META")"
check "touch -d sets mtime of a column" touch -d "2001-02-03 04:05:06 UTC" "$T/x"
check_eq "column mtime" 981173106 "$(stat -c %Y "$T/x")"
check "chmod of the root" chmod 1777 "$MNT"

if [ "$(id -u)" != 0 ]; then
	note "not root: other users not tested"
	finish
fi

section "other users, with -o allow_other"
stop_daemon
start_daemon -o allow_other
U1=4242
U2=4343
check "user $U1 mkdir in the root" as_user $U1 mkdir "$MNT/u1"
check_eq "table owner" "$U1:$U1" "$(stat -c %u:%g "$MNT/u1")"
check_eq "meta.json owner" "$U1:$U1" "$(stat -c %u:%g "$MNT/u1/meta.json")"
expect_ok as_user $U1 "$COLCHECK" meta "$MNT/u1/meta.json" '{"rows": 8, "columns": [{"name": "c", "type": "int64"}]}'
check_eq "column owner = writer" "$U1:$U1" "$(stat -c %u:%g "$MNT/u1/c")"
check_eq "column mode" 644 "$(stat -c %a "$MNT/u1/c")"
expect_ok as_user $U1 "$COLCHECK" pwrite "$MNT/u1/c" 0 8 1
expect_ok as_user $U2 "$COLCHECK" open "$MNT/u1/c" r
expect_errno EACCES as_user $U2 "$COLCHECK" pwrite "$MNT/u1/c" 0 8 2
expect_errno EACCES as_user $U2 "$COLCHECK" meta "$MNT/u1/meta.json" '{"rows": 9}'
expect_errno EACCES as_user $U2 "$COLCHECK" unlink "$MNT/u1/c"
expect_errno EPERM as_user $U2 "$COLCHECK" chmod "$MNT/u1" 777
expect_errno EPERM as_user $U2 "$COLCHECK" rename "$MNT/u1" "$MNT/stolen"
check "u1 still has 8 rows" test "$(meta_field "$MNT/u1" 'm["rows"]')" = 8
as_user $U1 chmod 700 "$MNT/u1" || fail "owner chmod 700"
expect_errno EACCES as_user $U2 "$COLCHECK" open "$MNT/u1/c" r
expect_errno EACCES as_user $U2 "$COLCHECK" open "$MNT/u1/meta.json" r
as_user $U1 chmod 777 "$MNT/u1" || fail "owner chmod 777"
check_eq "meta.json mode of a 777 table" 666 "$(stat -c %a "$MNT/u1/meta.json")"
expect_ok as_user $U2 "$COLCHECK" meta "$MNT/u1/meta.json" '{"columns": [{"name": "d", "type": "int8"}]}'
check_eq "column made by another user" "$U2:$U2" "$(stat -c %u:%g "$MNT/u1/d")"
check_eq "its mode: table mode & 0666" 666 "$(stat -c %a "$MNT/u1/d")"
expect_ok as_user $U2 "$COLCHECK" unlink "$MNT/u1/d"
expect_ok as_user $U1 "$COLCHECK" unlink "$MNT/u1/c"
section "sticky root: only the owner deletes a table"
expect_errno EPERM as_user $U2 "$COLCHECK" rmdir "$MNT/u1"
expect_ok as_user $U1 "$COLCHECK" rmdir "$MNT/u1"
expect_ok as_user $U2 "$COLCHECK" mkdir "$MNT/u2"
check "root can delete any table" rmdir "$MNT/u2"

finish
