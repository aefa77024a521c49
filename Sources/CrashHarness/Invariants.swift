import BackgroundCopy
import Foundation
import Logging

/// A broken promise found after a trial.
public struct Violation: Sendable, CustomStringConvertible {
    /// The invariant (I0 … I13).
    public let invariant: String
    /// What was wrong, naming the file or group.
    public let detail: String
    public var description: String { "\(invariant): \(detail)" }
}

/// The queue's state as read back after recovery, one row per file.
struct FileRow: Sendable {
    let id: Int64
    let group: UUID
    let groupState: String
    let jobActive: Bool
    let local: String
    let state: String
    let bytesDone: Int64
    let completions: Int
}

/// Checks I0–I11 and I13 on a trial directory against its acknowledgement log: reopens the queue with the
/// real VFS and file system (which runs recovery), reads everything back, and compares.
public struct InvariantChecker {
    let directory: String
    let acks: AckLog

    /// A checker for the trial in `directory` (the one a workload ran in) against `acks`.
    public init(directory: String, acks: AckLog) {
        self.directory = directory
        self.acks = acks
    }

    /// Checks the trial; with `runToCompletion` also I11 (every resumable group completes on a healthy disk).
    public func check(runToCompletion: Bool) async -> [Violation] {
        var violations: [Violation] = []
        func fail(_ invariant: String, _ detail: String) { violations.append(Violation(invariant: invariant, detail: detail)) }
        let context = WorkloadContext(directory: directory, acks: AckLog(), simulated: false)
        guard FileManager.default.fileExists(atPath: context.databasePath) else {
            // Stopped before the queue existed: then nothing may have been acknowledged.
            let acknowledged = acks.all.contains { if case .groupCreated = $0 { return true } else { return false } }
            return acknowledged ? [Violation(invariant: "I1", detail: "acknowledged groups but no database")] : []
        }
        violations += committedProgressOnDisk(context)
        let manager: QueueManager
        do {
            manager = try QueueManager(path: context.databasePath, logger: Self.silent)
        } catch {
            return [Violation(invariant: "I0", detail: "the queue does not open after recovery: \(error)")]
        }
        do {
            let database = try RawDatabase(path: context.databasePath)
            let (integrity, foreignKeys, groups, files) = try read(database)
            if integrity != "ok" { fail("I0", "integrity_check: \(integrity)") }
            if foreignKeys > 0 { fail("I0", "\(foreignKeys) foreign-key violations") }
            checkAcknowledged(groups: groups, files: files, fail)
            try checkCalls(database, files: files, fail)
            checkDisk(files: files, context: context, fail)
            let before = try digest(database, context)
            try reopen(context)
            let after = try digest(database, context)
            if before != after { fail("I10", "a second recovery changed the queue or its files") }
            for id in cancelledAcks() {
                do {
                    try await manager.createGroup(id: GroupID(id), properties: GroupProperties(displayName: "reuse"))
                    fail("I7", "the ID of cancelled group \(id) was reused")
                } catch let error where error.code == .alreadyExists {
                } catch {
                    fail("I7", "reusing cancelled group \(id) failed with \(error.code), not alreadyExists")
                }
            }
            if runToCompletion { await complete(manager, database, context, fail) }
        } catch {
            fail("I0", "reading the recovered queue failed: \(error)")
        }
        return violations
    }

    /// I8 as the crash left it, before recovery can repair anything: every committed byte count
    /// of an unfinished file is backed by that many bytes of its source in its temp file.
    private func committedProgressOnDisk(_ context: WorkloadContext) -> [Violation] {
        let rows: [(local: String, temp: String, done: Int)]
        do {
            let database = try RawDatabase(path: context.databasePath)
            // Stopped before the schema was created: nothing committed.
            guard try database.rows("SELECT count(*) FROM sqlite_master WHERE name = 'files'").first?.first?.int64 == 1 else { return [] }
            rows = try database.rows(
                """
                SELECT local_path, temp_path, bytes_done FROM files
                WHERE state IN ('queued', 'transferring', 'error') AND bytes_done > 0 AND temp_path IS NOT NULL
                """
            ).map { ($0[0].string, $0[1].string, Int($0[2].int64)) }
        } catch {
            return [Violation(invariant: "I0", detail: "the crashed database cannot be read: \(error)")]
        }
        let contents = sourceVersions(context)
        return rows.compactMap { row in
            guard let temp = FileManager.default.contents(atPath: row.temp), temp.count >= row.done else {
                return Violation(invariant: "I8", detail: "\(row.local) had \(row.done) bytes committed but its temp file held fewer at the crash")
            }
            let prefix = temp.prefix(row.done)
            guard contents.contains(where: { $0.count >= prefix.count && $0.prefix(prefix.count) == prefix }) else {
                return Violation(invariant: "I8", detail: "the \(row.done) bytes committed for \(row.local) were not its source's at the crash")
            }
            return nil
        }
    }

    private func sourceVersions(_ context: WorkloadContext) -> [Data] {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "\(context.sourceDirectory)/versions")) ?? []
        return versions.compactMap { try? Data(contentsOf: URL(fileURLWithPath: "\(context.sourceDirectory)/versions/\($0)")) }
    }

    private func read(_ database: RawDatabase) throws(RawDatabase.Failure) -> (String, Int, [UUID: String], [FileRow]) {
        let integrity = try database.rows("PRAGMA integrity_check").map { $0.first?.string ?? "" }.joined(separator: "; ")
        let foreignKeys = try database.rows("PRAGMA foreign_key_check").count
        var groups: [UUID: String] = [:]
        for row in try database.rows("SELECT uuid, state FROM groups") {
            if let id = row[0].uuid { groups[id] = row[1].string }
        }
        let files = try database.rows(
            """
            SELECT f.id, g.uuid, g.state, j.state = 'active', f.local_path, f.state, f.bytes_done,
                   (SELECT count(*) FROM events e WHERE e.kind = 'fileComplete' AND e.job_id = j.id AND e.file_index = f.position)
            FROM files f JOIN jobs j ON j.id = f.job_id JOIN groups g ON g.id = j.group_id ORDER BY f.id
            """
        ).compactMap { row -> FileRow? in
            guard let group = row[1].uuid else { return nil }
            return FileRow(
                id: row[0].int64, group: group, groupState: row[2].string, jobActive: row[3].int64 == 1,
                local: row[4].string, state: row[5].string, bytesDone: row[6].int64, completions: Int(row[7].int64))
        }
        return (integrity.isEmpty ? "no answer" : integrity, foreignKeys, groups, files)
    }

    private func cancelledAcks() -> [UUID] {
        acks.all.compactMap { if case .cancelled(let group, _) = $0 { return group } else { return nil } }
    }

    /// I1, I2, I3, I5, I7, I9: the rows against what was asked for and acknowledged.
    private func checkAcknowledged(groups: [UUID: String], files: [FileRow], _ fail: (String, String) -> Void) {
        var attemptedGroups: Set<UUID> = [], attemptedLocals: [UUID: Set<String>] = [:]
        for entry in acks.all {
            switch entry {
            case .groupAttempted(let id): attemptedGroups.insert(id)
            case .groupCreated(let id) where groups[id] == nil: fail("I1", "acknowledged group \(id) is missing")
            case .filesAttempted(let group, let batch):
                attemptedLocals[group, default: []].formUnion(batch.map(\.local))
                let present = batch.filter { ref in files.contains { $0.group == group && $0.local == ref.local } }.count
                if present != 0 && present != batch.count { fail("I2", "\(present) of \(batch.count) files of a batch of \(group) exist") }
            case .filesAdded(let group, let batch):
                for ref in batch where !files.contains(where: { $0.group == group && $0.local == ref.local }) {
                    fail("I1", "acknowledged file \(ref.local) of \(group) is missing")
                }
            case .cancelled(let group, let complete):
                if groups[group] != "cancelled" { fail("I7", "cancelled group \(group) is \(groups[group] ?? "missing")") }
                for local in complete where files.first(where: { $0.group == group && $0.local == local })?.state != "retained" {
                    fail("I5", "\(local), complete at the cancel of \(group), is not retained")
                }
            case .jobCancelled(let group, let locals, let complete):
                for local in locals {
                    let state = files.first { $0.group == group && $0.local == local }?.state
                    let expected = complete.contains(local) ? "retained" : "discarded"
                    if state != expected && !(expected == "discarded" && state == "retained") {
                        fail("I5", "\(local) of a cancelled job of \(group) is \(state ?? "missing"), expected \(expected)")
                    }
                }
            case .completed(let group, let local):
                let row = files.first { $0.group == group && $0.local == local }
                if row?.completions != 1 { fail("I3", "acknowledged completion of \(local) has \(row?.completions ?? 0) fileComplete events") }
                if let state = row?.state, state != "complete" && state != "retained" {
                    fail("I1", "acknowledged complete file \(local) is \(state)")
                }
            default: break
            }
        }
        for (id, _) in groups where !attemptedGroups.contains(id) { fail("I1", "group \(id) was never asked for") }
        for file in files {
            if !(attemptedLocals[file.group]?.contains(file.local) ?? false) { fail("I1", "file \(file.local) was never asked for") }
            if file.completions > 1 { fail("I3", "\(file.local) completed \(file.completions) times") }
            if ["transferring", "finalizing"].contains(file.state) { fail("I9", "\(file.local) is still \(file.state) after recovery") }
            if file.groupState == "cancelled" && !["retained", "discarded"].contains(file.state) {
                fail("I9", "\(file.local) of a cancelled group is \(file.state)")
            }
            if file.groupState == "complete" && file.jobActive && file.state != "complete" {
                fail("I9", "\(file.local) of a complete group is \(file.state)")
            }
        }
        for (id, state) in groups where state == "transferring" { fail("I9", "group \(id) is still transferring after recovery") }
    }

    /// I4, I6, I8: the files on disk (the queue directory and its folders) against the rows.
    private func checkDisk(files: [FileRow], context: WorkloadContext, _ fail: (String, String) -> Void) {
        let contents = sourceVersions(context)
        for file in files {
            let local = FileManager.default.contents(atPath: file.local)
            let tempPath = Self.tempPath(local: file.local, fileRowID: file.id)
            let temp = FileManager.default.contents(atPath: tempPath)
            switch file.state {
            case "complete", "retained":
                if let local {
                    if !contents.contains(local) { fail("I4", "\(file.local) (\(file.state)) differs from every version of its source") }
                } else if file.state == "complete" || file.completions > 0 {
                    fail("I4", "\(file.local) is \(file.state) but missing")
                }
            default:
                if local != nil { fail("I6", "\(file.local) exists but is \(file.state)") }
            }
            if ["complete", "retained", "discarded"].contains(file.state), temp != nil {
                fail("I6", "temp file of \(file.local) (\(file.state)) survives")
            }
            if ["queued", "error"].contains(file.state), file.bytesDone > 0 {
                guard let temp, temp.count >= file.bytesDone else {
                    fail("I8", "\(file.local) has \(file.bytesDone) bytes committed but \(temp?.count ?? 0) on disk")
                    continue
                }
                if temp.count != file.bytesDone {
                    fail("I8", "recovery left \(temp.count) bytes in the temp file of \(file.local), \(file.bytesDone) committed")
                }
                let prefix = temp.prefix(Int(file.bytesDone))
                if !contents.contains(where: { $0.count >= prefix.count && $0.prefix(prefix.count) == prefix }) {
                    fail("I8", "the \(file.bytesDone) committed bytes of \(file.local) are not its source's")
                }
            }
        }
        let known = Set(files.map { Self.tempPath(local: $0.local, fileRowID: $0.id) })
        let names = (try? FileManager.default.subpathsOfDirectory(atPath: context.queueDirectory)) ?? []
        for name in names where name.hasSuffix(".bgcopy-part") && !known.contains("\(context.queueDirectory)/\(name)") {
            fail("I6", "temp file \(name) belongs to no file")
        }
    }

    /// Every row and every file under the queue directory and its folders, for I10.
    private func digest(_ database: RawDatabase, _ context: WorkloadContext) throws(RawDatabase.Failure) -> String {
        var lines: [String] = []
        for table in ["groups", "jobs", "files", "events", "observers"] {
            for row in try database.rows("SELECT * FROM \(table) ORDER BY rowid") {
                lines.append(table + ":" + row.map(\.description).joined(separator: "|"))
            }
        }
        let names = ((try? FileManager.default.subpathsOfDirectory(atPath: context.queueDirectory)) ?? []).sorted()
        for name in names where !name.hasPrefix("queue.sqlite") {
            let data = FileManager.default.contents(atPath: "\(context.queueDirectory)/\(name)") ?? Data()
            lines.append("file:\(name):\(WorkloadContext.sha256(data))")
        }
        return lines.joined(separator: "\n")
    }

    /// Opens the queue once more (a second recovery) and closes it.
    private func reopen(_ context: WorkloadContext) throws(QueueError) {
        _ = try QueueManager(path: context.databasePath, logger: Self.silent)
    }

    /// The temp file of a file, as DESIGN.md names it: `<local dir>/.<name>.<file id>.bgcopy-part`.
    static func tempPath(local: String, fileRowID: Int64) -> String {
        let slash = local.lastIndex(of: "/") ?? local.startIndex
        let name = local[local.index(after: slash)...]
        return "\(local[..<slash])/.\(name).\(fileRowID).bgcopy-part"
    }

    static let silent = Logger(label: "check", factory: { _ in SwiftLogNoOpLogHandler() })

    /// I11: with a healthy disk, every live group with work left completes once resumed.
    private func complete(
        _ manager: QueueManager, _ database: RawDatabase, _ context: WorkloadContext,
        _ fail: (String, String) -> Void
    ) async {
        do {
            for (group, state) in try await resumeAndRun(manager, sources: context.sourceDirectory) where state != .complete {
                fail("I11", "group \(group.id) is \(state) after a healthy run, not complete")
            }
            let (_, _, _, files) = try read(database)
            checkDisk(files: files, context: context, fail)
        } catch {
            fail("I11", "completing the recovered queue failed: \(error)")
        }
    }

    /// Resumes every live group with work left, transfers until nothing can be claimed, and
    /// returns each resumed group with its state then.
    private func resumeAndRun(_ manager: QueueManager, sources: String) async throws(QueueError) -> [(Group, GroupState)] {
        var resumed: [Group] = []
        for group in try await manager.groups() where try await group.status().state != .complete {
            try await group.suspend()
            do {
                try await group.resume()
                resumed.append(group)
            } catch let error where error.code == .empty {}
        }
        var started = 0
        let transports: [String: any Transport] = ["file": FileTransport(), "http": SourceTransport(directory: sources)]
        while started < 64, try await manager.transferNextFile(transports: transports) { started += 1 }
        var states: [(Group, GroupState)] = []
        for group in resumed { states.append((group, try await group.status().state)) }
        return states
    }
}

/// Fetches an HTTP file of a workload from its source file (`<directory>/<last path component>`),
/// for I11 once the workload's loopback server is gone with the process that ran it.
struct SourceTransport: Transport {
    let directory: String

    func fetch(_ request: TransferRequest, into sink: TransferSink) async throws(QueueError) {
        let name = request.remote.split(separator: "/").last.map(String.init) ?? ""
        let local = TransferRequest(
            remote: "\(directory)/\(name)", offset: request.offset, validator: request.validator,
            headers: request.headers, groupID: request.groupID)
        try await FileTransport().fetch(local, into: sink)
    }
}
