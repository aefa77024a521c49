import NIOCore
import NIOHTTP1
import Synchronization

/// Everything one server shares between the test's thread and its connections: what each path
/// serves, the faults in force, the accounting, and the open connections (so shutdown can close
/// them, stalled ones included).
final class ServerState: Sendable {
    private struct FaultSlot {
        var fault: Fault
        /// Requests still to affect; nil for until cleared.
        var remaining: Int?
    }

    private struct Storage {
        var contents: [String: Content] = [:]
        var faults: [String: FaultSlot] = [:]
        var served: [String: Int] = [:]
        var requests: [String: [RecordedRequest]] = [:]
        var registrations = 0
        var connections = 0
        var open: [ObjectIdentifier: any Channel] = [:]
        var isShutDown = false
    }

    private let storage = Mutex(Storage())

    // MARK: Content and faults

    func register(_ path: String, _ source: Content.Source) {
        storage.withLock {
            $0.registrations += 1
            $0.contents[path] = Content(path: path, source: source, registration: $0.registrations)
        }
    }

    func remove(_ path: String) {
        storage.withLock { _ = $0.contents.removeValue(forKey: path) }
    }

    func content(_ path: String) -> Content? {
        storage.withLock { $0.contents[path] }
    }

    func setFault(_ path: String, _ fault: Fault?, times: Int?) {
        storage.withLock {
            if let fault, times.map({ $0 > 0 }) ?? true {
                $0.faults[path] = FaultSlot(fault: fault, remaining: times)
            } else {
                $0.faults[path] = nil
            }
        }
    }

    func fault(_ path: String) -> Fault? {
        storage.withLock { $0.faults[path]?.fault }
    }

    // MARK: Answering

    /// Records `request`, uses up one application of the path's fault, bumps the content's version
    /// under ``Fault/changeETag``, and decides the answer — all atomically.
    func respond(to request: HTTPRequestHead, connection: Int) -> ResponsePlan {
        let path = Self.path(ofTarget: request.uri)
        return storage.withLock { storage in
            let recorded = RecordedRequest(
                method: request.method.rawValue, path: path, uri: request.uri,
                headers: request.headers.map { ($0.name, $0.value) }, connection: connection)
            storage.requests[path, default: []].append(recorded)
            var fault: Fault?
            if var slot = storage.faults[path] {
                fault = slot.fault
                if let remaining = slot.remaining {
                    slot.remaining = remaining - 1
                    storage.faults[path] = remaining > 1 ? slot : nil
                }
            }
            if fault == .changeETag, storage.contents[path] != nil {
                storage.contents[path]!.version += 1
            }
            return ResponsePlan.make(for: request, path: path, content: storage.contents[path], fault: fault)
        }
    }

    /// The path of a request target: its query dropped, an absolute-form target reduced to its path.
    static func path(ofTarget target: String) -> String {
        var rest = Substring(target)
        if let scheme = rest.firstRange(of: "://") {
            rest = rest[scheme.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        return rest.isEmpty ? "/" : String(rest)
    }

    // MARK: Accounting

    func served(_ path: String, _ count: Int) {
        storage.withLock { $0.served[path, default: 0] += count }
    }

    func bytesServed(_ path: String) -> Int {
        storage.withLock { $0.served[path] ?? 0 }
    }

    func requests(_ path: String) -> [RecordedRequest] {
        storage.withLock { $0.requests[path] ?? [] }
    }

    var connectionsAccepted: Int {
        storage.withLock { $0.connections }
    }

    func resetCounters() {
        storage.withLock {
            $0.served = [:]
            $0.requests = [:]
        }
    }

    // MARK: Connections

    /// Numbers a new connection and keeps it for shutdown; nil when the server is shutting down.
    func opened(_ channel: any Channel) -> Int? {
        storage.withLock {
            guard !$0.isShutDown else { return nil }
            $0.connections += 1
            $0.open[ObjectIdentifier(channel)] = channel
            return $0.connections
        }
    }

    func closed(_ channel: any Channel) {
        storage.withLock { _ = $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Refuses connections from now on and hands back the open ones.
    func beginShutdown() -> [any Channel] {
        storage.withLock {
            $0.isShutDown = true
            return Array($0.open.values)
        }
    }
}
