/// A misbehaviour the server applies to the requests for one path, switched with
/// ``LoopbackServer/setFault(_:_:times:)``.
///
/// Faults that need content (everything except ``status(_:retryAfter:)`` and
/// ``redirect(to:status:)``) answer 404 for a path that serves nothing.
public enum Fault: Sendable, Hashable {
    /// Sends the head with the full `Content-Length`, then closes the connection after `bytes`
    /// body bytes (0 closes right after the head).
    case closeAfter(bytes: Int)
    /// Answers with this status and an empty body, adding `Retry-After` when given (e.g. 429 or 503
    /// with `"2"` or an HTTP date).
    case status(Int, retryAfter: String? = nil)
    /// Ignores `Range`: a range request gets `200` and the whole body.
    case ignoreRange
    /// Ignores `Range` and sends the head with the full `Content-Length`, then closes the
    /// connection after `bytes` body bytes: a download that restarts from zero every time and
    /// never gets further.
    case truncateIgnoringRange(bytes: Int)
    /// Every request gets a new version of the content first: its ETag and Last-Modified change, and
    /// its bytes too (the seed is mixed with the version). The version stays after the fault ends.
    case changeETag
    /// Sends the body slowly, in small pieces paced to about `bytesPerSecond`.
    case trickle(bytesPerSecond: Int)
    /// Answers `status` (301, 302, 303, 307 or 308) with `Location: to`, an absolute URL (another
    /// server instance is another origin) or a path on this server.
    case redirect(to: String, status: Int = 302)
    /// Sends the head, then nothing, and never closes: the client has to time out. Shutting the
    /// server down still closes the connection.
    case stall
    /// Announces the usual `Content-Length` but sends `extra` more body bytes, then closes.
    case longerThanContentLength(extra: Int)
    /// Sends the body with `Transfer-Encoding: chunked` and no `Content-Length`; the connection stays
    /// usable.
    case noContentLength
    /// Sends the body with neither `Content-Length` nor chunked framing, with `Connection: close`,
    /// and ends it by closing the connection.
    case closeDelimited
    /// Sends a chunked body with no `Content-Length` that never ends: pieces of `*` as fast as the
    /// client takes them, until it closes the connection or the server shuts down.
    case endless
    /// Answers `401` with `WWW-Authenticate: Basic realm="loopback"` unless the request carries
    /// exactly this `Authorization` value; a request that does is served as usual.
    case requireAuthorization(String)
}

extension Fault {
    /// Whether the fault makes the server answer a range request with the whole body.
    var ignoresRange: Bool {
        switch self {
        case .ignoreRange, .truncateIgnoringRange: true
        default: false
        }
    }
}
