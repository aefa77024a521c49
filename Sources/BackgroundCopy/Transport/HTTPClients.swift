import AsyncHTTPClient
import NIOPosix

/// The HTTP clients of the engine's built-in transport: one for direct connections and one per
/// proxy in ``QueueManager/Configuration/proxies`` (AsyncHTTPClient sets its proxy per client), made
/// when the engine starts and shut down when it stops.
struct HTTPClients: Sendable {
    let direct: HTTPClient
    private let proxied: [ProxySettings.Proxy: HTTPClient]
    private let settings: ProxySettings

    init(_ configuration: QueueManager.Configuration) {
        var base = HTTPTransport.clientConfiguration(
            connectTimeout: configuration.connectTimeout,
            readTimeout: configuration.readTimeout)
        // A connection for every transfer the engine runs at once. With AsyncHTTPClient's default
        // of 8 a host, a foreground file's request queued behind 8 background downloads from the
        // same host, timed out waiting for a connection, and waited for its retry.
        base.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(
            base.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit, configuration.maxConcurrentTransfers)
        direct = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: base)
        settings = configuration.proxies
        var proxied: [ProxySettings.Proxy: HTTPClient] = [:]
        for proxy in Set([settings.http, settings.https].compactMap { $0 }) {
            var through = base
            switch proxy.kind {
            case .http:
                let authorization = proxy.user.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "") }
                through.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
            case .socks5:
                through.proxy = .socksServer(host: proxy.host, port: proxy.port)
            }
            proxied[proxy] = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: through)
        }
        self.proxied = proxied
    }

    /// The client a request to `url` goes through.
    func client(for url: String) -> HTTPClient {
        settings.proxy(for: url).flatMap { proxied[$0] } ?? direct
    }

    /// Shuts every client down.
    func shutdown() async {
        for client in [direct] + proxied.values {
            try? await client.shutdown()  // the engine is stopping; a client that fails to shut down holds nothing of the queue
        }
    }
}
