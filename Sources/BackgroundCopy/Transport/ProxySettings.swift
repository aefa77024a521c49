import Foundation

/// Which proxy the engine's HTTP transport goes through, per URL (the counterpart of BITS' proxy
/// settings): one for `http` URLs, one for `https` URLs, and the hosts that bypass them.
///
/// By default ``QueueManager/Configuration/proxies`` reads the environment as curl does
/// (``environment(_:)``). Requests to loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) never go
/// through a proxy. AsyncHTTPClient tunnels both schemes through an HTTP proxy with `CONNECT`, so
/// the proxy must allow `CONNECT` to the servers' ports (80 too, for `http` URLs); TLS runs end to
/// end, verified against the server's name as without a proxy.
public struct ProxySettings: Sendable, Hashable {
    /// A proxy server.
    public struct Proxy: Sendable, Hashable {
        /// How the engine talks to the proxy.
        public enum Kind: Sendable, Hashable {
            /// An HTTP proxy, asked to open a tunnel with `CONNECT`.
            case http
            /// A SOCKS5 proxy.
            case socks5
        }

        /// The proxy's host name or address.
        public var host: String
        /// The proxy's port.
        public var port: Int
        /// How to talk to it.
        public var kind: Kind
        /// The user name for the proxy's Basic authentication, if it wants one (HTTP proxies only).
        public var user: String?
        /// The password for the proxy's Basic authentication.
        public var password: String?

        /// A proxy at `host:port`.
        public init(host: String, port: Int, kind: Kind = .http, user: String? = nil, password: String? = nil) {
            self.host = host
            self.port = port
            self.kind = kind
            self.user = user
            self.password = password
        }

        /// Parses a proxy URL as curl takes it: `[http://][user:password@]host[:port]` (port 80 by
        /// default) or `socks5://host[:port]` (port 1080); `nil` for an empty value or another scheme.
        public init?(url text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { return nil }
            let withScheme = trimmed.contains("://") ? trimmed : "http://" + trimmed
            guard let components = URLComponents(string: withScheme), let host = components.host, !host.isEmpty else { return nil }
            switch components.scheme?.lowercased() {
            case "http": kind = .http
            case "socks5", "socks5h": kind = .socks5
            default: return nil
            }
            self.host = host
            port = components.port ?? (kind == .http ? 80 : 1080)
            user = components.user?.removingPercentEncoding
            password = components.password?.removingPercentEncoding
        }
    }

    /// The proxy for `http` URLs; `nil` for direct connections.
    public var http: Proxy?
    /// The proxy for `https` URLs; `nil` for direct connections.
    public var https: Proxy?
    /// Hosts that bypass the proxies, as in `no_proxy`: `example.com` (or `.example.com`) covers that
    /// domain and every name under it, an address covers itself, `*` covers every host.
    public var bypass: [String]

    /// Direct connections for every URL.
    public static let none = ProxySettings()

    /// Settings with the given proxies and bypass list.
    public init(http: Proxy? = nil, https: Proxy? = nil, bypass: [String] = []) {
        self.http = http
        self.https = https
        self.bypass = bypass
    }

    /// What the environment says, as curl reads it: `http_proxy` (lowercase only: a CGI server sets
    /// `HTTP_PROXY` from a request header), `https_proxy` or `HTTPS_PROXY`, each falling back to
    /// `all_proxy` or `ALL_PROXY`, and `no_proxy` or `NO_PROXY` (names separated by commas).
    /// A value that is not a proxy URL ``Proxy/init(url:)`` accepts means no proxy.
    public static func environment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ProxySettings {
        func first(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        let all = first("all_proxy", "ALL_PROXY")
        return ProxySettings(
            http: (first("http_proxy") ?? all).flatMap(Proxy.init(url:)),
            https: (first("https_proxy", "HTTPS_PROXY") ?? all).flatMap(Proxy.init(url:)),
            bypass: (first("no_proxy", "NO_PROXY") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty })
    }

    /// The proxy a request to `url` goes through; `nil` for a direct connection.
    public func proxy(for url: String) -> Proxy? {
        guard let components = URLComponents(string: url), let host = components.host?.lowercased() else { return nil }
        let proxy: Proxy? =
            switch components.scheme?.lowercased() {
            case "http": http
            case "https": https
            default: nil
            }
        guard let proxy, !Self.isLoopback(host), !bypasses(host) else { return nil }
        return proxy
    }

    /// Whether `host` is in ``bypass``.
    private func bypasses(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bypass.contains { entry in
            let entry = entry.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".[]"))
            return entry == "*" || host == entry || host.hasSuffix("." + entry)
        }
    }

    /// `localhost` (and names under it), `127.0.0.0/8` and `::1`.
    private static func isLoopback(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host.hasSuffix(".localhost") || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil } && octets[0] == "127"
    }
}
