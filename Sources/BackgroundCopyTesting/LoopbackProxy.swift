import NIOCore
import NIOPosix
import Synchronization

/// An HTTP proxy on the loopback interface for tests of proxy support: it answers `CONNECT` by
/// opening a tunnel to the address ``upstream`` maps the requested host and port to, and counts
/// the tunnels it opened. Any other method gets `405`. It never resolves a name itself, so a test
/// can fetch `http://files.example.test/…` through it while every byte stays on 127.0.0.1.
///
/// ```swift
/// let server = try await LoopbackServer.start()
/// let proxy = try await LoopbackProxy.start { _, _ in (server.host, server.port) }
/// // … fetch through proxy.host:proxy.port …
/// print(proxy.tunnels)  // ["files.example.test:80"]
/// try await proxy.shutdown()
/// ```
public final class LoopbackProxy: Sendable {
    /// Where a tunnel for the requested host and port really goes.
    public typealias Upstream = @Sendable (_ host: String, _ port: Int) -> (host: String, port: Int)

    /// The address the proxy listens on.
    public let host: String
    /// The port the proxy listens on.
    public let port: Int
    private let listener: any Channel
    private let log: Log

    private init(host: String, port: Int, listener: any Channel, log: Log) {
        self.host = host
        self.port = port
        self.listener = listener
        self.log = log
    }

    /// Starts a proxy on `host` (a free port) whose tunnels go where `upstream` says.
    public static func start(host: String = "127.0.0.1", upstream: @escaping Upstream) async throws -> LoopbackProxy {
        let log = Log()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectHandler(upstream: upstream, log: log))
                }
            }
            .bind(host: host, port: 0).get()
        guard let port = listener.localAddress?.port else {
            try? await listener.close()
            throw ChannelError.unknownLocalAddress
        }
        return LoopbackProxy(host: host, port: port, listener: listener, log: log)
    }

    /// The `host:port` of every `CONNECT` the proxy tunnelled, in order.
    public var tunnels: [String] {
        log.targets.withLock { $0 }
    }

    /// Stops listening. Open tunnels end when their peers close them.
    public func shutdown() async throws {
        try await listener.close()
    }

    /// The tunnels the handlers opened.
    final class Log: Sendable {
        let targets = Mutex<[String]>([])

        func record(_ target: String) {
            targets.withLock { $0.append(target) }
        }
    }
}

/// Reads the `CONNECT` request head, opens the upstream connection, answers `200` and glues the
/// two connections together.
private final class ConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: LoopbackProxy.Upstream
    private let log: LoopbackProxy.Log
    private var head = ""

    init(upstream: @escaping LoopbackProxy.Upstream, log: LoopbackProxy.Log) {
        self.upstream = upstream
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        head += buffer.readString(length: buffer.readableBytes) ?? ""
        guard let end = head.firstRange(of: "\r\n\r\n") else { return }
        let requestLine = head[..<end.lowerBound].split(separator: "\r\n").first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[0] == "CONNECT", let colon = parts[1].lastIndex(of: ":"),
            let targetPort = Int(parts[1][parts[1].index(after: colon)...])
        else {
            reply("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", context: context, close: true)
            return
        }
        let target = String(parts[1])
        let (upHost, upPort) = upstream(String(parts[1][..<colon]), targetPort)
        let client = context.channel
        let connected = ClientBootstrap(group: context.eventLoop).connect(host: upHost, port: upPort)
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let server):
                self.log.record(target)
                do {
                    try server.pipeline.syncOperations.addHandler(GlueHandler(partner: client))
                    try client.pipeline.syncOperations.addHandler(GlueHandler(partner: server))
                } catch {
                    server.close(promise: nil)
                    client.close(promise: nil)
                    return
                }
                self.reply("HTTP/1.1 200 Connection Established\r\n\r\n", context: context, close: false)
                client.pipeline.syncOperations.removeHandler(self, promise: nil)
            case .failure:
                self.reply("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", context: context, close: true)
            }
        }
    }

    private func reply(_ text: String, context: ChannelHandlerContext, close: Bool) {
        let written = context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)))
        if close { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }
}

/// Forwards every byte read on its channel to the partner channel, and closes the partner when
/// its own channel closes.
private final class GlueHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let partner: any Channel

    init(partner: any Channel) {
        self.partner = partner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
