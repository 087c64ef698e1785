/*
 * embed: files compiled into the binary by the build (tools/embed.c), such as
 * migrations and web assets. Each group is an array generated into
 * build/gen/GROUP.c:
 *
 *   extern const struct embedded_file embed_migrations[];
 *   extern const size_t embed_migrations_count;
 *
 * Files are sorted by name; name is the file's base name; data is NUL-terminated
 * (the NUL is not counted in size).
 */
#ifndef FERRY_CORE_EMBED_H
#define FERRY_CORE_EMBED_H

#include <stddef.h>

struct embedded_file {
    const char *name;
    const char *data;
    size_t size;
};

#define EMBED_DECLARE(group)                           \
    extern const struct embedded_file embed_##group[]; \
    extern const size_t embed_##group##_count

#endif
