/* tests/support/h264dec.h — decode H.264 access units with GStreamer in a test:
 * appsrc (byte-stream, one AU per buffer) → h264parse → avdec_h264 → appsink, counting the
 * decoded pictures, remembering their size, and counting decoder errors and warnings.
 * The caller must have called gst_init(). Not thread-safe; one decoder per stream. */
#ifndef BBT_TEST_H264DEC_H
#define BBT_TEST_H264DEC_H

#include <stddef.h>
#include <stdint.h>

typedef struct h264dec h264dec;

typedef struct h264dec_result {
    int frames;         /* pictures decoded */
    int width, height;  /* of the last one (0 if none) */
    int errors;         /* ERROR and WARNING messages from the pipeline */
} h264dec_result;

h264dec *h264dec_new(void);
/* One access unit (copied). 0, or -1 when the pipeline refused it. */
int h264dec_push(h264dec *d, const uint8_t *au, size_t len);
/* End of stream: drain (up to 5 s) and report. The decoder is freed. */
h264dec_result h264dec_finish(h264dec *d);

#endif
