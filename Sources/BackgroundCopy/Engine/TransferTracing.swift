import Tracing

/// The engine's spans (swift-distributed-tracing): one per attempt at a file, named
/// `bgcopy.transfer`, of kind `client`.
///
/// Each span's parent is the `ServiceContext` that was current when the engine's `run()` started
/// (a host that runs the engine inside a span of its own finds every transfer under it). It is not
/// the context of the `addFiles` call that queued the file: that call may have come from another
/// process (the CLI, say) long before, and carrying a trace context across processes would mean
/// storing it in the file's row, which the schema does not do.
struct TransferTracing: Sendable {
    let tracer: any Tracer
    let parent: ServiceContext

    /// The tracing of an engine whose `run()` starts now, or `nil` for swift-distributed-tracing's no-op tracer.
    init?(tracer: any Tracer, parent: ServiceContext) {
        guard !(tracer is NoOpTracer) else { return nil }
        self.tracer = tracer
        self.parent = parent
    }

    /// Starts the span of an attempt at `claim`, placed as `placement` says (when it is known).
    func start(_ claim: Claim, placement: FilePlacement?) -> any Span {
        let span = tracer.startSpan("bgcopy.transfer", context: parent, ofKind: .client)
        span.updateAttributes { attributes in
            attributes["bgcopy.group.id"] = claim.groupID.description
            attributes["bgcopy.file.offset"] = Int64(clamping: claim.bytesDone)
            attributes["bgcopy.file.retries"] = claim.retries
            attributes["url.scheme"] = Self.scheme(of: claim.remote)
            if let placement {
                attributes["bgcopy.job.id"] = placement.job.description
                attributes["bgcopy.job.index"] = placement.jobIndex
                attributes["bgcopy.file.index"] = placement.fileIndex
            }
        }
        return span
    }

    /// Ends `span` with the attempt's `outcome`, the bytes the file holds and those this attempt
    /// received; a failure (for good or until a retry) sets the error status and records `error`.
    static func finish(_ span: any Span, _ outcome: TransferOutcome, error: QueueError?, bytes: UInt64, received: UInt64) {
        span.updateAttributes { attributes in
            attributes["bgcopy.transfer.outcome"] = outcome.rawValue
            attributes["bgcopy.file.bytes"] = Int64(clamping: bytes)
            attributes["bgcopy.file.bytes_received"] = Int64(clamping: received)
            if let status = error?.httpStatus { attributes["http.response.status_code"] = status }
        }
        if let error, outcome == .failed || outcome == .retry {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error, message: error.message))
        }
        span.end()
    }

    /// The URL scheme (lowercase) of a remote name; `file` for an absolute path. Never the URL
    /// itself: it may carry a signed query string.
    private static func scheme(of remote: String) -> String {
        remote.hasPrefix("/") ? "file" : String(remote.prefix { $0 != ":" }).lowercased()
    }
}
