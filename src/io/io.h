/*
 * io.h - files: the operating-system calls as a replaceable table, reading
 * a whole file, atomic writing (io.c), the model format (io.c) and IDX
 * images (idx.c).  Includes the layers below it: base, core, train (a
 * checkpoint carries an optimizer's state).
 */
#ifndef NNFS_IO_H
#define NNFS_IO_H

#include "base/base.h"

/* The operating-system calls the library makes for files, as a table the
   tests can replace to inject failures (SQLite VFS style).  Each returns
   what the POSIX call returns and sets errno on failure.  Names are taken
   relative to a directory descriptor (the *at calls; AT_FDCWD for a plain
   path), so a save never builds a path longer than the caller's. */
struct nn__io {
    int (*open)(int dirfd, const char *path, int flags, unsigned mode);
    long (*read)(int fd, void *buf, size_t n);
    long (*write)(int fd, const void *buf, size_t n);
    int (*fsync)(int fd);
    int (*close)(int fd);
    /* renameat(dirfd, from, dirfd, to): both names in one directory */
    int (*rename)(int dirfd, const char *from, const char *to);
    int (*unlink)(int dirfd, const char *path);   /* unlinkat(..., 0) */
    int (*fstat_size)(int fd, uint64_t *size);  /* st_size of a regular file */
    /* fstatat(dirfd, path, AT_SYMLINK_NOFOLLOW): *mode gets st_mode */
    int (*lstat_mode)(int dirfd, const char *path, unsigned *mode);
};
/* The table in use; tests may overwrite its members (and restore them). */
extern struct nn__io nn__io;
/* The default table (the real system calls). */
extern const struct nn__io nn__io_default;

/* Read all of path (a regular file of at most max_bytes) into a new
   nn__malloc block; buf_out and size_out receive it (free with nn__free).
   Statuses and messages as nn_net_load's (NN_ERR_IO, NN_ERR_FORMAT for an
   oversized or changing file, NN_ERR_NOMEM); fn names the caller. */
int nn__read_file(const char *path, uint64_t max_bytes,
                  unsigned char **buf_out, size_t *size_out, const char *fn);

/* Write an image of size bytes to path atomically (temporary file in the
   same directory, fsync, rename, directory fsync; see nn_net_save):
   write_image(ctx, buf) fills the size-byte buffer.  Statuses and
   messages as nn_net_save's (path NULL or empty: NN_ERR_INVALID_ARG;
   NN_ERR_NOMEM; NN_ERR_IO); fn names the caller. */
typedef void (*nn__image_writer)(const void *ctx, unsigned char *buf);
int nn__save_image(size_t size, nn__image_writer write_image,
                   const void *ctx, const char *path, const char *fn);

/* idx.c: parse an IDX image (plain or gzip).  *data receives a pointer to
   the count * sample_size payload bytes: inside buf for a plain file, or
   a new block in *owned (free with nn__free) for gzip. */
int nn__idx_parse(const unsigned char *buf, size_t size,
                  const unsigned char **data, unsigned char **owned,
                  size_t *count, size_t *sample_size, uint32_t *ndims,
                  const char *fn, const char *name);

/* Largest file nn_net_load will read (a model at every limit plus room). */
#define NN__MAX_FILE_BYTES ((uint64_t)NN_MAX_PARAMS * 16u + (1u << 22))

/* Parse a model image (shared by nn_net_load and nn_net_load_buffer). */
int nn__net_parse(nn_net **out, const unsigned char *buf, size_t size,
                  const char *fn);
/* Exact size of the image of net. */
size_t nn__net_image_size(const nn_net *net);
/* Write the image of net into buf (nn__net_image_size bytes). */
void nn__net_image_write(const nn_net *net, unsigned char *buf);
/* CRC-32 of n bytes (zlib's crc32, fed in NN__CRC_CHUNK pieces so any
   size_t works); crc is the running value, 0 to start. */
#define NN__CRC_CHUNK ((size_t)1 << 20)
uint32_t nn__crc32(uint32_t crc, const void *buf, size_t n);

#endif /* NNFS_IO_H */
