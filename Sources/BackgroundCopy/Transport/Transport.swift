/// Moves the bytes of one file from where it lives to a ``TransferSink``.
///
/// The library brings `http`/`https` (``HTTPTransport``) and `file` (``FileTransport``); a host
/// registers its own for other schemes in ``QueueManager/Configuration/transports`` (and allows
/// the scheme in ``QueueManager/Configuration/allowedSchemes``).
///
/// A transport resumes when it can: ``TransferRequest/offset`` bytes are already held, taken from
/// the version named by ``TransferRequest/validator``. It tells the sink where its bytes start with
/// ``TransferSink/begin(at:total:validator:)`` — at the offset to resume, at 0 to start over (the
/// source changed, or cannot resume) — then hands over the bytes in order. It ends by returning
/// (every byte delivered) or by throwing a ``QueueError``: errors marked ``QueueError/isTransient``
/// are retried after the group's retry delay; all others fail the file.
public protocol Transport: Sendable {
    /// Fetches `request.remote` into `sink`.
    func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError)
}

/// What a transport is asked to fetch.
public struct TransferRequest: Sendable {
    /// The remote name as added to the job (a URL, or an absolute path for a local copy).
    public let remote: String
    /// Bytes already held from an earlier attempt; fetch from here if the source is unchanged.
    public let offset: UInt64
    /// The ETag or Last-Modified (or a transport's own version tag) the held bytes came from.
    public let validator: String?
    /// The group's custom HTTP headers.
    public let headers: [HTTPHeader]
    /// The group the file belongs to, for a transport that looks up per-group settings.
    public let groupID: GroupID

    /// A request; the engine makes these, a custom transport's tests may too.
    public init(remote: String, offset: UInt64, validator: String?, headers: [HTTPHeader], groupID: GroupID) {
        self.remote = remote
        self.offset = offset
        self.validator = validator
        self.headers = headers
        self.groupID = groupID
    }
}
