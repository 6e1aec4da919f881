/* relay/conn_authz.c — what an authenticated connection may publish and watch
 * (docs/SECURITY.md, Authorisation rules). conn.c asks before publish and subscribe.
 *
 *   - The role masks of conn.c's handler table come first: only source and relay may publish,
 *     only operators send operator messages (BBT_EDENIED there).
 *   - A source publishes an occurrence of the timetable only when it is that lesson's source
 *     classroom and the lesson is scheduled now (lead before the start .. stop_delay after the
 *     end; relay/schedule/authz.h). A session id that is not in the timetable (a lesson started
 *     by hand, or any session when [schedule] enabled = false) it may publish only when the id
 *     is its classroom id, or starts with its classroom id followed by '.', '-' or '_'.
 *   - A source or receiver watches an occurrence only when its classroom is that lesson's source
 *     or one of its receivers. Sessions that are not in the timetable are open to every
 *     authenticated classroom (the relay cannot know who belongs to them).
 *   - Operators and relays watch anything; a relay publishes anything (an edge relay repeats
 *     what it receives).
 *   - Lab mode ([auth] required = false, a hello without a token): no check, as before tokens.
 * Each refusal: an `error` BBT_EDENIED (83) answering the request (the connection stays),
 * one log line with the subject, the session and the reason, counted as reason="denied".
 */
#include <stdio.h>
#include <string.h>

#include "proto/log.h"
#include "proto/status.h"
#include "relay/relay_internal.h"
#include "relay/schedule/authz.h"

static bool own_prefix(const char *classroom, const char *session)
{
    size_t n = strlen(classroom);
    if (strncmp(session, classroom, n) != 0)
        return false;
    return session[n] == '\0' || session[n] == '.' || session[n] == '-' || session[n] == '_';
}

static bool deny(struct bbt_conn *c, bbt_msg_type type, const json_t *m, const char *session,
                 const char *why)
{
    c->relay->metrics.refused[BBT_REFUSE_DENIED]++;
    BBT_WARN("denied subject=%s message=%s session=%s reason=\"%s\"", c->subject,
             bbt_msg_type_name(type), session, why);
    json_t *e = bbt_msg_error(BBT_EDENIED, why, bbt_msg_type_name(type));
    if (e)
        bbt_msg_echo_id(e, m);
    bbt_conn_send_json(c, e);
    return false;
}

static bool may_publish(struct bbt_conn *c, const json_t *m, const char *session)
{
    char why[128] = "";
    int v = bbt_sched_may_publish(c->relay->sched, c->subject, session, why, sizeof why);
    if (v == BBT_AUTHZ_YES)
        return true;
    if (v == BBT_AUTHZ_NO)
        return deny(c, BBT_MSG_PUBLISH, m, session, why);
    if (own_prefix(c->subject, session))
        return true;
    return deny(c, BBT_MSG_PUBLISH, m, session,
                "a session outside the timetable must be named after the publishing classroom");
}

bool bbt_conn_authorize(struct bbt_conn *c, bbt_msg_type type, const json_t *m)
{
    const char *session = json_string_value(json_object_get(m, "session"));
    if (!session || !c->jti[0]) /* lab mode: a hello without a token (never with required) */
        return true;
    if (c->role == ROLE_OPERATOR || c->role == ROLE_RELAY)
        return true;
    if (type == BBT_MSG_PUBLISH)
        return may_publish(c, m, session);
    char why[128] = "";
    if (bbt_sched_may_watch(c->relay->sched, c->subject, session, why, sizeof why) ==
        BBT_AUTHZ_NO)
        return deny(c, type, m, session, why);
    return true;
}
