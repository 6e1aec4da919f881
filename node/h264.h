/* node/h264.h — the little H.264 knowledge the node needs: walk the NAL units of one Annex-B
 * access unit, derive the frame flags of docs/PROTOCOL.md §2.2 from them, and the RFC 6381
 * codec string ("avc1.42C01F") from a sequence parameter set.
 *
 * Pure functions over caller-owned bytes: nothing is allocated, nothing is kept. The pointers
 * a bbt_h264_au holds point into the buffer given to bbt_h264_parse_au() (transfer none) and
 * are valid as long as that buffer is. */
#ifndef BBT_NODE_H264_H
#define BBT_NODE_H264_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    BBT_NAL_SLICE = 1,
    BBT_NAL_IDR = 5,
    BBT_NAL_SEI = 6,
    BBT_NAL_SPS = 7,
    BBT_NAL_PPS = 8,
    BBT_NAL_AUD = 9,
};

typedef struct bbt_h264_au {
    unsigned nals;           /* NAL units found */
    bool idr;                /* a slice of NAL type 5 */
    bool sps, pps, aud;      /* types 7, 8, 9 present */
    bool vcl;                /* any slice (types 1..5) */
    bool nonref;             /* every slice has nal_ref_idc 0 (nothing references it) */
    const uint8_t *sps_nal;  /* the first SPS NAL (header byte first), or NULL; transfer none */
    size_t sps_len;
} bbt_h264_au;

/* Walk the Annex-B access unit at p[0..len) (3- or 4-byte start codes). BBT_OK, or
 * BBT_EINVAL when p/out is NULL or no start code begins the data. */
int bbt_h264_parse_au(const uint8_t *p, size_t len, bbt_h264_au *out);

/* The media frame flags for this access unit: KEY for an IDR, CONFIG when SPS and PPS ride
 * with it, DISCARDABLE for a non-reference picture. */
unsigned bbt_h264_frame_flags(const bbt_h264_au *au);

/* "avc1.PPCCLL" from an SPS NAL unit (header byte first; emulation-prevention bytes are
 * skipped): profile_idc, the constraint-flag byte and level_idc in upper-case hex.
 * out must hold 12 bytes. BBT_OK, or BBT_EINVAL (NULL, not an SPS, too short). */
int bbt_h264_codec_string(const uint8_t *sps, size_t len, char out[12]);

#endif
