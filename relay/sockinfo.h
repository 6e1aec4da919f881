/* relay/sockinfo.h — what the kernel knows about a TCP connection that the relay asks for.
 * Kept apart because it needs <linux/tcp.h>, which cannot be included with <netinet/tcp.h>. */
#ifndef BBT_SOCKINFO_H
#define BBT_SOCKINFO_H

#include <stdint.h>

/* Bytes of this connection the peer has acknowledged so far (TCP_INFO tcpi_bytes_acked, Linux
 * 4.1 and later). BBT_OK, or BBT_EIO when the kernel cannot say (then *out is untouched). */
int bbt_sock_bytes_acked(int fd, uint64_t *out);

/* The connection's smoothed round-trip time and the smallest one seen (TCP_INFO tcpi_rtt and
 * tcpi_min_rtt, µs; Linux 4.6 and later). srtt − min_rtt is how long the network (a bottleneck's
 * queue) holds what the relay sent. BBT_OK, or BBT_EIO (outputs untouched). */
int bbt_sock_rtt(int fd, int64_t *srtt_us, int64_t *min_rtt_us);

#endif
