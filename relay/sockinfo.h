/* relay/sockinfo.h — what the kernel knows about a TCP connection that the relay asks for.
 * Kept apart because it needs <linux/tcp.h>, which cannot be included with <netinet/tcp.h>. */
#ifndef BBT_SOCKINFO_H
#define BBT_SOCKINFO_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes of this connection the peer has acknowledged so far (TCP_INFO tcpi_bytes_acked, Linux
 * 4.1 and later). BBT_OK, or BBT_EIO when the kernel cannot say (then *out is untouched). */
int bbt_sock_bytes_acked(int fd, uint64_t *out);

/* What TCP measures of the path (TCP_INFO, Linux 4.9 and later). */
typedef struct bbt_sock_path {
    int64_t srtt_us, min_rtt_us; /* smoothed and smallest round-trip time: srtt − min_rtt is
                                  * how long a bottleneck's queue holds what the relay sent */
    int64_t delivery_bps;        /* the latest delivery-rate sample (bits/s) ... */
    bool app_limited;            /* ... taken while the relay had too little to send: then it
                                  * says nothing about the link's capacity */
    int64_t retrans;             /* segments retransmitted since the connection opened: the
                                  * link loses packets (or its queue overflows) ... */
    int64_t segs_out;            /* ... of the segments sent so far */
    uint64_t bytes_acked;        /* bytes the peer has acknowledged so far ... */
    int64_t unacked;             /* ... and segments sent and not acknowledged yet */
} bbt_sock_path;

/* BBT_OK, or BBT_EIO (out untouched). */
int bbt_sock_path_read(int fd, bbt_sock_path *out);

/* The host's net.ipv4.tcp_reordering (/proc/sys): how many segments TCP lets arrive after a
 * missing one before it calls that one lost, for connections opened from now on; -1 when it
 * cannot be read. Above 1, a lost segment no reordering has been seen on waits min_rtt / 4
 * longer to be sent again (RACK's reordering window): on a far link that is each loss's hold
 * on the sound ~30 ms longer (docs/operator-guide, "Host settings"). */
int bbt_host_tcp_reordering(void);

#endif
