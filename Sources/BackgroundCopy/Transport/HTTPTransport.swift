import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Downloads over `http` and `https` with AsyncHTTPClient: streamed to the sink, resumed with
/// `Range` + `If-Range`, redirects followed by hand (at most ``maxRedirects``, only to `http` or
/// `https`, and without the group's custom headers once the origin changes), TLS verified by the
/// client's configuration. Credentials come from a host callback, asked before each request to the
/// file's own origin and never once a redirect has left it (see ``CredentialRequest``).
///
/// A `200` answer to a range request, or a `206` whose ETag differs from the one the held bytes
/// came from, starts the file over. 4xx answers other than 408 and 429 are permanent failures;
/// connection failures, timeouts, 5xx, 408 and 429 (with `Retry-After`) are transient.
public struct HTTPTransport: Transport {
    /// The client requests go through; its owner shuts it down.
    public let client: HTTPClient
    /// The most redirects one fetch follows.
    public let maxRedirects: Int
    /// Asked for the `Authorization` of each request to the file's own origin; `nil` sends none.
    public let credentials: (@Sendable (CredentialRequest) async -> Credential?)?
    /// The engine's clients, which choose a proxy per URL; `nil` when a host brought its own client.
    private let clients: HTTPClients?

    /// A transport over `client`. Configure the client with redirects disallowed; this transport
    /// follows them itself so that it can check each hop. `credentials` is asked before every
    /// request to the origin of the file's remote URL, and never after a redirect left it.
    public init(
        client: HTTPClient, maxRedirects: Int = 10,
        credentials: (@Sendable (CredentialRequest) async -> Credential?)? = nil
    ) {
        self.client = client
        self.maxRedirects = maxRedirects
        self.credentials = credentials
        self.clients = nil
    }

    /// The engine's transport: each request goes through the client for its URL's proxy.
    init(clients: HTTPClients, maxRedirects: Int, credentials: (@Sendable (CredentialRequest) async -> Credential?)?) {
        self.client = clients.direct
        self.maxRedirects = maxRedirects
        self.credentials = credentials
        self.clients = clients
    }

    /// The client configuration the engine uses when the host brings no transport of its own.
    static func clientConfiguration(connectTimeout: Duration, readTimeout: Duration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(connectTimeout.nanoseconds), read: .nanoseconds(readTimeout.nanoseconds)))
        configuration.decompression = .disabled
        return configuration
    }

    /// Fetches `request.remote` into `sink`, resuming at `request.offset` when the server allows.
    public func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        var url = request.remote
        var offset = request.offset
        var headers = request.headers
        var leftOrigin = false
        var hops = 0
        while true {
            var credential: Credential?
            if let credentials, !leftOrigin {
                credential = await credentials(CredentialRequest(groupID: request.groupID, remote: request.remote, url: url))
            }
            let response = try await send(
                url: url, offset: offset, validator: request.validator, headers: headers,
                credential: credential, remote: request.remote)
            let status = Int(response.status.code)
            switch status {
            case 301, 302, 303, 307, 308:
                hops += 1
                guard hops <= maxRedirects else {
                    throw QueueError(
                        .transfer, "more than \(maxRedirects) redirects fetching \(request.remote.withoutQuery)", value: request.remote, httpStatus: status)
                }
                let next = try Self.redirectTarget(response, from: url, remote: request.remote)
                if Self.origin(of: next) != Self.origin(of: url) {
                    headers = []
                    leftOrigin = true
                }
                url = next
            case 200:
                try await sink.begin(at: 0, total: Self.contentLength(response), validator: Self.validator(response))
                return try await stream(response, into: sink, remote: request.remote)
            case 206:
                let range = Self.contentRange(response)
                let newValidator = Self.validator(response)
                if range?.start != offset || (request.validator != nil && newValidator != nil && newValidator != request.validator) {
                    offset = 0  // the server resumed somewhere else, or from another version: start over
                    continue
                }
                try await sink.begin(at: offset, total: range?.total, validator: newValidator ?? request.validator)
                return try await stream(response, into: sink, remote: request.remote)
            case 416:
                if let total = Self.contentRange(response)?.total, total == offset, offset > 0 {
                    return try await sink.begin(at: offset, total: total, validator: request.validator)
                }
                guard offset > 0 else { fallthrough }
                offset = 0
            case 408, 429, 500...599:
                throw QueueError(
                    .transfer, "\(request.remote.withoutQuery) answered HTTP \(status)", value: request.remote, httpStatus: status,
                    isTransient: true, retryAfter: Self.retryAfter(response))
            default:
                throw QueueError(.transfer, "\(request.remote.withoutQuery) answered HTTP \(status)", value: request.remote, httpStatus: status)
            }
        }
    }

    private func send(
        url: String, offset: UInt64, validator: String?, headers: [HTTPHeader], credential: Credential?,
        remote: String
    ) async throws(QueueError) -> HTTPClientResponse {
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = .GET
        for header in headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let credential { outgoing.headers.replaceOrAdd(name: "Authorization", value: credential.authorization) }
        outgoing.headers.replaceOrAdd(name: "Accept-Encoding", value: "identity")
        if offset > 0 {
            outgoing.headers.replaceOrAdd(name: "Range", value: "bytes=\(offset)-")
            if let validator { outgoing.headers.replaceOrAdd(name: "If-Range", value: validator) }
        }
        do {
            return try await (clients?.client(for: url) ?? client).execute(outgoing, deadline: .distantFuture)
        } catch {
            throw Self.classify(error, remote: remote)
        }
    }

    private func stream(_ response: HTTPClientResponse, into sink: TransferSink, remote: String) async throws(QueueError) {
        do {
            for try await buffer in response.body {
                try await sink.write(buffer.readableBytesView)
            }
        } catch let error as QueueError {
            throw error
        } catch {
            throw Self.classify(error, remote: remote)
        }
        let (held, total, _) = sink.position
        if let total, held < total {
            throw QueueError(.transfer, "\(remote.withoutQuery): connection ended after \(held) of \(total) bytes", value: remote, isTransient: true)
        }
    }

    // MARK: Reading responses

    static func classify(_ error: any Error, remote: String) -> QueueError {
        if error is CancellationError || Task.isCancelled { return TransferSink.stopped }
        if let error = error as? QueueError { return error }
        let kind = String(reflecting: type(of: error))
        if kind.contains("NIOSSL") || kind.contains("Certificate") {
            return QueueError(.transfer, "TLS failed for \(remote.withoutQuery): \(error)", value: remote)
        }
        if let error = error as? HTTPClientError, error == .cancelled { return TransferSink.stopped }
        if let error = error as? HTTPClientError, error == .invalidURL || error == .emptyHost || error == .unsupportedScheme("") {
            return QueueError(.transfer, "\(remote.withoutQuery) is not a URL this transport can fetch: \(error)", value: remote)
        }
        return QueueError(.transfer, "fetching \(remote.withoutQuery) failed: \(error)", value: remote, isTransient: true)
    }

    static func redirectTarget(_ response: HTTPClientResponse, from url: String, remote: String) throws(QueueError) -> String {
        guard let location = response.headers.first(name: "Location"),
            let target = URL(string: location, relativeTo: URL(string: url))?.absoluteURL,
            let scheme = target.scheme?.lowercased()
        else {
            throw QueueError(.transfer, "redirect from \(url.withoutQuery) has no usable Location", value: remote, httpStatus: Int(response.status.code))
        }
        guard scheme == "http" || scheme == "https" else {
            throw QueueError(
                .transfer, "redirect from \(url.withoutQuery) to scheme \(scheme) refused", value: target.absoluteString, httpStatus: Int(response.status.code))
        }
        return target.absoluteString
    }

    static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        let scheme = components.scheme?.lowercased() ?? ""
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(components.host?.lowercased() ?? ""):\(port)"
    }

    static func validator(_ response: HTTPClientResponse) -> String? {
        response.headers.first(name: "ETag") ?? response.headers.first(name: "Last-Modified")
    }

    static func contentLength(_ response: HTTPClientResponse) -> UInt64? {
        response.headers.first(name: "Content-Length").flatMap { UInt64($0) }
    }

    /// `Content-Range: bytes START-END/TOTAL` (or `bytes */TOTAL` on a 416).
    static func contentRange(_ response: HTTPClientResponse) -> (start: UInt64?, total: UInt64?)? {
        guard let value = response.headers.first(name: "Content-Range"), value.hasPrefix("bytes ") else { return nil }
        let spec = value.dropFirst(6)
        let parts = spec.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let start = parts[0].split(separator: "-").first.flatMap { UInt64($0) }
        return (start, UInt64(parts[1]))
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ response: HTTPClientResponse) -> Duration? {
        guard let value = response.headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Int64(value) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int64(date.timeIntervalSinceNow * 1000)))
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for NIO's `TimeAmount`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
