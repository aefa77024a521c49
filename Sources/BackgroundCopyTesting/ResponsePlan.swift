import NIOHTTP1

/// Everything a connection needs to answer one request, decided under the server's lock: the head,
/// which bytes of which content version to send, and how to misbehave while sending them.
struct ResponsePlan {
    /// How the body goes out.
    enum Delivery: Equatable {
        /// As fast as the socket takes it, then `.end`.
        case normal
        /// Close the connection after this many body bytes.
        case closeAfter(Int)
        /// In small pieces paced to this many bytes per second.
        case trickle(bytesPerSecond: Int)
        /// The head, then nothing.
        case stall
        /// Filler pieces for ever.
        case endless
    }

    var status: HTTPResponseStatus
    var headers = HTTPHeaders()
    /// The content the body comes from (a snapshot of its current version).
    var content: Content?
    /// The offsets of the content the body carries; empty for no body.
    var body: Range<Int> = 0..<0
    /// Bytes sent after `body`, beyond what the head announced.
    var extra = 0
    var delivery = Delivery.normal
    /// Close the connection once the response is out (the client asked, or the body is
    /// close-delimited, or it overran its length).
    var closesConnection = false
    /// The path the body bytes are counted under.
    var path: String

    init(status: Int, path: String) {
        self.status = HTTPResponseStatus(statusCode: status)
        self.path = path
    }

    /// Decides the answer to `request` for `path`, given what the path serves and the fault in force.
    static func make(for request: HTTPRequestHead, path: String, content: Content?, fault: Fault?) -> ResponsePlan {
        var plan = plan(method: request.method, headers: request.headers, path: path, content: content, fault: fault)
        if request.method == .HEAD {
            plan.body = 0..<0
            plan.extra = 0
        }
        if !request.isKeepAlive {
            plan.closesConnection = true
            if request.version.minor >= 1 { plan.headers.replaceOrAdd(name: "Connection", value: "close") }
        } else if request.version.major == 1 && request.version.minor == 0 && !plan.closesConnection {
            plan.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        return plan
    }

    private static func plan(method: HTTPMethod, headers: HTTPHeaders, path: String, content: Content?, fault: Fault?) -> ResponsePlan {
        guard method == .GET || method == .HEAD else {
            var plan = ResponsePlan(status: 405, path: path)
            plan.headers.add(name: "Allow", value: "GET, HEAD")
            plan.headers.add(name: "Content-Length", value: "0")
            return plan
        }
        var fault = fault
        if case .requireAuthorization(let expected) = fault {
            guard headers.first(name: "Authorization") == expected else {
                var plan = ResponsePlan(status: 401, path: path)
                plan.headers.add(name: "WWW-Authenticate", value: "Basic realm=\"loopback\"")
                plan.headers.add(name: "Content-Length", value: "0")
                return plan
            }
            fault = nil
        }
        switch fault {
        case .status(let code, let retryAfter):
            var plan = ResponsePlan(status: code, path: path)
            if let retryAfter { plan.headers.add(name: "Retry-After", value: retryAfter) }
            plan.headers.add(name: "Content-Length", value: "0")
            return plan
        case .redirect(let target, let code):
            var plan = ResponsePlan(status: code, path: path)
            plan.headers.add(name: "Location", value: target)
            plan.headers.add(name: "Content-Length", value: "0")
            return plan
        default:
            break
        }
        guard let content else {
            var plan = ResponsePlan(status: 404, path: path)
            plan.headers.add(name: "Content-Length", value: "0")
            return plan
        }

        // Which part of the content: Range, unless ignored or If-Range names another version.
        var rangeHeader = headers.first(name: "Range")
        if fault?.ignoresRange == true { rangeHeader = nil }
        if let validator = headers.first(name: "If-Range")?.trimmingWhitespace(),
            validator != content.etag && validator != content.lastModified
        {
            rangeHeader = nil
        }
        var plan: ResponsePlan
        switch RangeRequest(rangeHeader, size: content.size) {
        case .absent:
            plan = ResponsePlan(status: 200, path: path)
            plan.body = 0..<content.size
        case .satisfiable(let range):
            plan = ResponsePlan(status: 206, path: path)
            plan.body = range
            plan.headers.add(name: "Content-Range", value: "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(content.size)")
        case .unsatisfiable:
            plan = ResponsePlan(status: 416, path: path)
            plan.headers.add(name: "Content-Range", value: "bytes */\(content.size)")
        }
        plan.content = content
        plan.headers.add(name: "ETag", value: content.etag)
        plan.headers.add(name: "Last-Modified", value: content.lastModified)
        if fault?.ignoresRange != true { plan.headers.add(name: "Accept-Ranges", value: "bytes") }
        plan.headers.add(name: "Content-Type", value: "application/octet-stream")

        // Framing, and how to misbehave.
        switch fault {
        case .noContentLength, .endless:
            plan.headers.add(name: "Transfer-Encoding", value: "chunked")
        case .closeDelimited:
            plan.headers.add(name: "Connection", value: "close")
            plan.closesConnection = true
        default:
            plan.headers.add(name: "Content-Length", value: String(plan.body.count))
        }
        switch fault {
        case .closeAfter(let bytes), .truncateIgnoringRange(let bytes): plan.delivery = .closeAfter(max(0, bytes))
        case .trickle(let rate): plan.delivery = .trickle(bytesPerSecond: max(1, rate))
        case .stall: plan.delivery = .stall
        case .endless where plan.status.code != 416: plan.delivery = .endless
        case .longerThanContentLength(let extra) where plan.status.code != 416:
            plan.extra = max(0, extra)
            plan.closesConnection = true
        default: break
        }
        return plan
    }
}
