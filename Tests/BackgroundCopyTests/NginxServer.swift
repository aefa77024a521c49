import Foundation

/// A real nginx serving a directory on a loopback port, started for one test with a generated
/// configuration (`.ci/run` installs nginx). Its access log records each request's URI, status,
/// body bytes sent and `Range` header, so tests can prove what was fetched.
final class NginxServer: @unchecked Sendable {
    // @unchecked: every stored property is a `let`; `Process` is only touched in init and stop().
    let root: String
    let port: Int
    private let prefix: String
    private let process: Process

    /// Starts nginx serving `root` at `/`, and at `/slow/` limited to `slowRate` bytes per second.
    init(root: String, slowRate: Int = 2 << 20) throws {
        self.root = root
        prefix = root + "-nginx"
        try FileManager.default.createDirectory(atPath: prefix, withIntermediateDirectories: true)
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try NginxServer.freePort()
            let config = """
                daemon off;
                master_process off;
                worker_processes 1;
                error_log \(prefix)/error.log warn;
                pid \(prefix)/nginx.pid;
                events { worker_connections 64; }
                http {
                    log_format probe '$request_uri $status $body_bytes_sent "$http_range"';
                    access_log \(prefix)/access.log probe;
                    client_body_temp_path \(prefix)/body;
                    proxy_temp_path \(prefix)/proxy;
                    fastcgi_temp_path \(prefix)/fastcgi;
                    uwsgi_temp_path \(prefix)/uwsgi;
                    scgi_temp_path \(prefix)/scgi;
                    sendfile on;
                    server {
                        listen 127.0.0.1:\(port);
                        root \(root);
                        location /slow/ { alias \(root)/; limit_rate \(slowRate); }
                    }
                }
                """
            try config.write(toFile: "\(prefix)/nginx.conf", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: NginxServer.executable)
            process.arguments = ["-p", prefix, "-c", "\(prefix)/nginx.conf"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if NginxServer.waitUntilListening(port: port, process: process) {
                self.port = port
                self.process = process
                return
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            lastError = NSError(
                domain: "nginx", code: 1,
                userInfo: [NSLocalizedDescriptionKey: (try? String(contentsOfFile: "\(prefix)/error.log", encoding: .utf8)) ?? "nginx did not start"])
        }
        throw lastError!
    }

    deinit { stop() }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

    /// Stops nginx and waits for it. SIGKILL, because a child spawned from a test thread inherits
    /// that thread's blocked signals, SIGTERM among them.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// One access-log line per request: URI, status, body bytes sent, Range header ("-" if none).
    struct LogEntry: Equatable {
        let uri: String
        let status: Int
        let bytesSent: Int
        let range: String
    }

    var accessLog: [LogEntry] {
        let text = (try? String(contentsOfFile: "\(prefix)/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 3)
            guard parts.count == 4, let status = Int(parts[1]), let bytes = Int(parts[2]) else { return nil }
            return LogEntry(uri: String(parts[0]), status: status, bytesSent: bytes, range: parts[3].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
    }

    static var executable: String {
        ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/opt/homebrew/bin/nginx", "/usr/local/bin/nginx"]
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/nginx"
    }

    /// A port nothing listens on right now (the kernel's choice for port 0).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw NSError(domain: "nginx", code: 2) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func waitUntilListening(port: Int, process: Process) -> Bool {
        for _ in 0..<100 {
            guard process.isRunning else { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return true }
            usleep(20_000)
        }
        return false
    }
}
