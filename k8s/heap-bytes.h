/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef K8S_HEAP_BYTES_H
#define K8S_HEAP_BYTES_H 1

/* What kovs's memory reports count: the heap a block takes, as glibc's
 * allocator hands it out, so that counting a structure's blocks gives what
 * freeing them returns (tests/test-k8s.c and tests/test-flows.c check it
 * against mallinfo2()). */

#include <malloc.h>
#include <stddef.h>
#include "openvswitch/hmap.h"
#include "openvswitch/util.h"

/* The heap a block from malloc() takes: what it can hold, and the size
 * word that glibc's allocator keeps before it.  0 for NULL. */
static inline size_t
heap_block_bytes(const void *p)
{
    return p ? malloc_usable_size(CONST_CAST(void *, p)) + sizeof(size_t)
             : 0;
}

/* The heap 'map''s bucket array takes (none while it uses its one inline
 * bucket). */
static inline size_t
hmap_buckets_bytes(const struct hmap *map)
{
    return map->buckets != &map->one ? heap_block_bytes(map->buckets) : 0;
}

#endif /* k8s/heap-bytes.h */
