import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTP/1.1 server on the loopback interface for tests and demos: serves generated or given
/// content per path with real `Range`/`If-Range`/ETag semantics, misbehaves on request
/// (``Fault``), and counts what it received and sent.
///
/// ```swift
/// let server = try await LoopbackServer.start()
/// server.serve("/big.bin", size: 1 << 30, seed: 7)
/// server.setFault("/big.bin", .closeAfter(bytes: 1_000_000), times: 1)
/// // … fetch server.url("/big.bin") …
/// try await server.shutdown()
/// ```
///
/// Connections run on NIO's shared event loop group. Call ``shutdown()`` when done: it closes the
/// listening socket and every connection, stalled ones included.
public final class LoopbackServer: Sendable {
    /// The address the server listens on.
    public let host: String
    /// The port the server listens on (the ephemeral one chosen when started with port 0).
    public let port: Int
    /// `https` for a server started with a ``TLSIdentity``, else `http`.
    public let scheme: String
    let state: ServerState
    private let listener: any Channel

    private init(host: String, port: Int, scheme: String, state: ServerState, listener: any Channel) {
        self.host = host
        self.port = port
        self.scheme = scheme
        self.state = state
        self.listener = listener
    }

    /// Starts a server listening on `host` and `port` (0 picks a free port); with `tls`, it speaks
    /// HTTPS with that certificate and key, and with plain HTTP otherwise.
    public static func start(host: String = "127.0.0.1", port: Int = 0, tls: TLSIdentity? = nil) async throws -> LoopbackServer {
        let tlsContext = try tls.map { identity in
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificateChainPEM.utf8)).map(NIOSSLCertificateSource.certificate)
            let key = try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let state = ServerState()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard let connection = state.opened(channel) else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in state.closed(channel) }
                if let tlsContext {
                    do {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                // Framing headers are the plans' business: faults need bodies framed wrongly.
                var encoder = HTTPResponseEncoder.Configuration()
                encoder.automaticallySetFramingHeaders = false
                return channel.pipeline.configureHTTPServerPipeline(withEncoderConfiguration: encoder).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(state: state, connection: connection))
                }
            }
        let listener = try await bootstrap.bind(host: host, port: port).get()
        guard let bound = listener.localAddress?.port else {
            try? await listener.close()
            throw ChannelError.unknownLocalAddress
        }
        return LoopbackServer(host: host, port: bound, scheme: tls == nil ? "http" : "https", state: state, listener: listener)
    }

    /// Stops listening and closes every connection, including stalled and trickling ones. Calling
    /// it again does nothing.
    public func shutdown() async throws {
        let connections = state.beginShutdown()
        do {
            try await listener.close()
        } catch ChannelError.alreadyClosed {
            // shut down before
        }
        for connection in connections {
            try? await connection.close()
        }
        for connection in connections {
            try? await connection.closeFuture.get()
        }
    }

    /// `http://HOST:PORT` (`https` with TLS), with no trailing slash.
    public var baseURL: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shown):\(port)"
    }

    /// The absolute URL of `path` on this server (a missing leading `/` is added).
    public func url(_ path: String) -> String {
        baseURL + Self.normalized(path)
    }

    /// Every path is kept with a leading `/`, as request targets have it.
    static func normalized(_ path: String) -> String {
        path.hasPrefix("/") ? path : "/" + path
    }

    /// How many connections the server has accepted since it started (not reset by
    /// ``resetCounters()``): fewer connections than requests means keep-alive worked.
    public var connectionsAccepted: Int {
        state.connectionsAccepted
    }
}
