import NIOCore

/// Hands out a response body in pieces, generating or copying each piece only when asked, so that
/// no more than one piece of a body is in memory at a time.
struct BodyCursor {
    /// The largest piece ever handed out.
    static let maximumPiece = 256 * 1024

    private let content: Content?
    private var offset: Int
    private let end: Int

    /// A cursor over `plan`'s body and extra bytes, cut short at `limit` bytes when given.
    init(_ plan: ResponsePlan, limit: Int? = nil) {
        content = plan.content
        offset = plan.body.lowerBound
        var end = plan.body.upperBound + plan.extra
        if let limit { end = min(end, offset + limit) }
        self.end = content == nil ? offset : end
    }

    /// The next piece of at most `size` bytes, or nil when the body is done.
    mutating func next(size: Int, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard let content, offset < end else { return nil }
        let count = min(max(1, min(size, Self.maximumPiece)), end - offset)
        var buffer = allocator.buffer(capacity: count)
        let start = offset
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
            content.fill(UnsafeMutableRawBufferPointer(rebasing: destination[0..<count]), from: start)
            return count
        }
        offset += count
        return buffer
    }
}
