import NIOCore
import NIOHTTP1

/// Answers the requests of one connection, one at a time (NIO's pipelining handler holds back the
/// next request until a response ends), carrying out each ``ResponsePlan``.
///
/// Body pieces go out one at a time: the next is produced only once the previous write has reached
/// the socket, which is the back-pressure that keeps memory flat for bodies of any size, and the
/// moment its bytes are counted as served.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: ServerState
    private let connection: Int
    private var request: HTTPRequestHead?
    private var isActive = true
    /// The response being sent, while its body is.
    private var plan: ResponsePlan?
    private var cursor: BodyCursor?
    /// Body bytes of the current response written so far, and when its body started (for pacing).
    private var sent = 0
    private var started = NIODeadline.now()
    private var timer: Scheduled<Void>?

    init(state: ServerState, connection: Int) {
        self.state = state
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // request bodies are not used
        case .end:
            guard let head = request else { return }
            request = nil
            respond(state.respond(to: head, connection: connection), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        timer?.cancel()
        timer = nil
        cursor = nil
        plan = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: Sending

    private func respond(_ plan: ResponsePlan, context: ChannelHandlerContext) {
        let head = HTTPResponseHead(version: .http1_1, status: plan.status, headers: plan.headers)
        self.plan = plan
        sent = 0
        started = .now()
        switch plan.delivery {
        case .stall:
            // The head, then silence until the client gives up or the server shuts down.
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
            cursor = nil
            return
        case .closeAfter(let bytes):
            cursor = BodyCursor(plan, limit: bytes)
        case .normal, .trickle, .endless:
            cursor = BodyCursor(plan)
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        pump(context: context)
    }

    /// Writes the next piece of the body, and schedules the one after it once this one is out.
    private func pump(context: ChannelHandlerContext) {
        guard isActive, let plan, var cursor else { return }
        var size = BodyCursor.maximumPiece
        if case .trickle(let rate) = plan.delivery { size = max(1, min(rate / 20, 16 * 1024)) }
        let next =
            plan.delivery == .endless
            ? context.channel.allocator.buffer(repeating: UInt8(ascii: "*"), count: size)
            : cursor.next(size: size, allocator: context.channel.allocator)
        guard let piece = next else {
            self.cursor = nil
            finish(context: context)
            return
        }
        self.cursor = cursor
        let count = piece.readableBytes
        let loop = context.eventLoop.assumeIsolated()
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(piece)))).assumeIsolated().whenComplete { result in
            guard case .success = result else {
                context.close(promise: nil)
                return
            }
            self.state.served(plan.path, count)
            self.sent += count
            if case .trickle(let rate) = plan.delivery {
                let due = self.started + .nanoseconds(Int64(Double(self.sent) / Double(rate) * 1_000_000_000))
                self.timer = loop.scheduleTask(deadline: due) { self.pump(context: context) }
            } else {
                // Through the loop rather than recursively: a write that completes at once would
                // otherwise grow the stack by a frame per piece.
                loop.execute { self.pump(context: context) }
            }
        }
    }

    /// Ends the response the way the plan says.
    private func finish(context: ChannelHandlerContext) {
        guard let plan else { return }
        self.plan = nil
        if case .closeAfter = plan.delivery {
            context.close(promise: nil)
            return
        }
        let ended = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if plan.closesConnection {
            ended.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
