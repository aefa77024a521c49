import Foundation
import Synchronization

/// What a workload asked for and what the library acknowledged, in order: the record the
/// invariants are checked against after a crash.
///
/// An *attempt* is written before a call, an *acknowledgement* after it returned success. In a
/// kill trial each line is also written to standard output at once, so the parent still has it
/// after the SIGKILL.
public final class AckLog: Sendable {
    /// One line of the log.
    public enum Entry: Sendable, Equatable {
        /// A group was asked for / created.
        case groupAttempted(UUID), groupCreated(UUID)
        /// A batch of files (local paths, each with its source path) was asked for / added.
        case filesAttempted(group: UUID, batch: [FileRef]), filesAdded(group: UUID, batch: [FileRef])
        /// A batch of files was refused: its call threw its own error, so none of it may exist.
        case filesRefused(group: UUID, batch: [FileRef])
        /// A group's display name and description were asked for / set.
        case propertiesAttempted(group: UUID, name: String, description: String)
        case propertiesSet(group: UUID, name: String, description: String)
        /// A group was resumed / suspended.
        case resumed(UUID), suspended(UUID)
        /// A group / a job was cancelled; `complete` lists the local paths complete just before.
        case cancelled(group: UUID, complete: [String])
        case jobCancelled(group: UUID, locals: [String], complete: [String])
        /// The library reported a file complete.
        case completed(group: UUID, local: String)
        /// A source file now has this content (its versions are what a complete file may hold).
        case sourceVersion(path: String, sha256: String)
    }

    /// A file of a batch: where it goes and where it comes from.
    public struct FileRef: Sendable, Equatable, Codable {
        public let local: String
        public let source: String
    }

    private let entries = Mutex<[Entry]>([])
    private let echo: Bool

    /// A log; with `echo`, every entry is also written to standard output as it happens.
    public init(echo: Bool = false) {
        self.echo = echo
    }

    /// Appends an entry.
    public func record(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
        if echo {
            let line = AckLog.encode(entry) + "\n"
            line.utf8CString.withUnsafeBufferPointer { buffer in
                _ = write(1, buffer.baseAddress, buffer.count - 1)
            }
        }
    }

    /// Every entry so far.
    public var all: [Entry] { entries.withLock { $0 } }

    /// Builds a log from lines written by ``record(_:)`` with `echo` (other lines are ignored).
    public static func parse(_ output: String) -> AckLog {
        let log = AckLog()
        for line in output.split(separator: "\n") {
            if let entry = decode(String(line)) { log.record(entry) }
        }
        return log
    }

    static func encode(_ entry: Entry) -> String {
        func refs(_ batch: [FileRef]) -> String { batch.map { "\($0.local)=\($0.source)" }.joined(separator: ",") }
        switch entry {
        case .groupAttempted(let id): return "ack|groupAttempted|\(id)"
        case .groupCreated(let id): return "ack|groupCreated|\(id)"
        case .filesAttempted(let group, let batch): return "ack|filesAttempted|\(group)|\(refs(batch))"
        case .filesAdded(let group, let batch): return "ack|filesAdded|\(group)|\(refs(batch))"
        case .filesRefused(let group, let batch): return "ack|filesRefused|\(group)|\(refs(batch))"
        case .propertiesAttempted(let group, let name, let description):
            return "ack|propertiesAttempted|\(group)|\(name)|\(description)"
        case .propertiesSet(let group, let name, let description): return "ack|propertiesSet|\(group)|\(name)|\(description)"
        case .resumed(let id): return "ack|resumed|\(id)"
        case .suspended(let id): return "ack|suspended|\(id)"
        case .cancelled(let group, let complete): return "ack|cancelled|\(group)|\(complete.joined(separator: ","))"
        case .jobCancelled(let group, let locals, let complete):
            return "ack|jobCancelled|\(group)|\(locals.joined(separator: ","))|\(complete.joined(separator: ","))"
        case .completed(let group, let local): return "ack|completed|\(group)|\(local)"
        case .sourceVersion(let path, let sha): return "ack|sourceVersion|\(path)|\(sha)"
        }
    }

    static func decode(_ line: String) -> Entry? {
        let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] == "ack" else { return nil }
        func list(_ index: Int) -> [String] {
            index < parts.count ? parts[index].split(separator: ",").map(String.init) : []
        }
        func refs(_ index: Int) -> [FileRef] {
            list(index).compactMap { pair in
                let halves = pair.split(separator: "=", maxSplits: 1).map(String.init)
                return halves.count == 2 ? FileRef(local: halves[0], source: halves[1]) : nil
            }
        }
        let id = UUID(uuidString: parts[2])
        switch parts[1] {
        case "groupAttempted": return id.map(Entry.groupAttempted)
        case "groupCreated": return id.map(Entry.groupCreated)
        case "filesAttempted": return id.map { .filesAttempted(group: $0, batch: refs(3)) }
        case "filesAdded": return id.map { .filesAdded(group: $0, batch: refs(3)) }
        case "filesRefused": return id.map { .filesRefused(group: $0, batch: refs(3)) }
        case "propertiesAttempted" where parts.count == 5:
            return id.map { .propertiesAttempted(group: $0, name: parts[3], description: parts[4]) }
        case "propertiesSet" where parts.count == 5:
            return id.map { .propertiesSet(group: $0, name: parts[3], description: parts[4]) }
        case "resumed": return id.map(Entry.resumed)
        case "suspended": return id.map(Entry.suspended)
        case "cancelled": return id.map { .cancelled(group: $0, complete: list(3)) }
        case "jobCancelled": return id.map { .jobCancelled(group: $0, locals: list(3), complete: list(4)) }
        case "completed": return id.map { .completed(group: $0, local: parts.count > 3 ? parts[3] : "") }
        case "sourceVersion": return parts.count > 3 ? .sourceVersion(path: parts[2], sha256: parts[3]) : nil
        default: return nil
        }
    }
}
