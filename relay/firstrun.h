/* relay/firstrun.h — what a freshly installed relay creates by itself on its first start, so
 * that `apt install ./banbantong-relay_*.deb` gives a working, TLS-protected relay with no
 * manual step before the first `bbtctl` command.
 *
 * 1. TLS (bbt_firstrun_tls): when [relay] tls_cert and tls_key are both empty and
 *    allow_insecure is false, the relay uses a county CA and a server certificate of its own
 *    under <state_dir>/tls/:
 *        ca.pem      the county CA certificate (install it on classroom PCs / in browsers)
 *        ca.key      its private key (0600; signs a new server certificate when needed)
 *        server.pem  the server certificate signed by the CA, then the CA certificate
 *        server.key  its private key (0600)
 *    Missing files are created (ECDSA P-256, SHA-256; CA valid 10 years, server 5 years; the
 *    server certificate names the host name, "localhost", 127.0.0.1, ::1, the configured listen
 *    address and every non-link-local address of the host). Existing files are used as they
 *    are: delete server.* and restart to get a new server certificate from the same CA. The
 *    paths are written into cfg (tls_cert, tls_key) so the rest of the relay sees an ordinary
 *    TLS configuration. With create = false (bbt-relay --check) nothing is written: cfg gets the
 *    paths the start will create.
 * 2. Operator token (bbt_firstrun_operator): when <state_dir>/operator.token does not exist,
 *    the relay signs an operator token (subject "admin", valid 365 days) with its secret
 *    (relay/auth.h, created if missing), writes it to operator.token (0600, the relay's user)
 *    and prints it ONCE to stderr (the journal under systemd) with what to do next. Delete the
 *    file and restart to get a new one; `bbtctl token issue --secret-file` signs more offline.
 * 3. The empty store is the schedule module's business (created on open).
 *
 * Messages are bilingual (Chinese first). The token appears only in that one stderr block and
 * in the file, never in a log line. No global state.
 */
#ifndef BBT_RELAY_FIRSTRUN_H
#define BBT_RELAY_FIRSTRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "config/relay_config.h"

#define BBT_FIRSTRUN_TOKEN_FILE "operator.token"
#define BBT_FIRSTRUN_TOKEN_DAYS 365

/* Step 1. BBT_OK (also when nothing was needed); BBT_EIO / BBT_ENOMEM with err saying why. */
int bbt_firstrun_tls(bbt_relay_config *cfg, bool create, char *err, size_t errlen);

/* Step 2. secret_file: the relay's secret ("" = <state_dir>/secret). *created tells whether a
 * new token was written (and printed). BBT_OK or an error with err. */
int bbt_firstrun_operator(const bbt_relay_config *cfg, const char *secret_file, bool *created,
                          char *err, size_t errlen);

/* The self-signed pieces, exposed for tests: a CA (cn) and a server certificate for `names`
 * (comma-separated "DNS:x" / "IP:y" entries) written to the four paths. */
int bbt_firstrun_make_certs(const char *dir, const char *cn, const char *names, char *err,
                            size_t errlen);

#endif
