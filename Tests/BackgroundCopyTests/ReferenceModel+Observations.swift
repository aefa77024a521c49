import Foundation
@testable import BackgroundCopy

/// What the reference model predicts the queue reports: progress, status and table rows.
extension ReferenceModel {

    static func progress(_ files: [File]) -> Progress {
        var progress = Progress()
        for file in files {
            progress.filesTotal += 1
            if file.state == .complete { progress.filesDone += 1 }
            progress.bytesDone += file.bytesDone
            if let known = file.bytesTotal ?? file.sizeHint {
                progress.bytesTotal += known
            } else {
                progress.filesOfUnknownSize += 1
            }
        }
        return progress
    }

    /// Group.progress(): every file of the group's live jobs.
    func progress(group: UUID) -> Progress { Self.progress(activeJobs(of: group).flatMap(\.files)) }

    /// Group.status().currentJobIndex: the index among live jobs of the first with a pending file.
    func currentJobIndex(group: UUID) -> Int? {
        activeJobs(of: group).firstIndex { $0.files.contains { Self.pendingStates.contains($0.state) } }
    }

    /// Job.status().currentFileIndex: the first pending file's position.
    func currentFileIndex(job: Job) -> Int? {
        job.files.first { Self.pendingStates.contains($0.state) }?.position
    }

    /// The zero-based index in its job of the file of the group's last failure, while recorded.
    /// The failed file itself, not whatever row later took its row ID: `nil` once it was purged.
    func lastErrorFileIndex(group: Group) -> Int? {
        guard let failed = group.lastError,
            jobs.contains(where: { $0.id == failed.job && $0.files.contains { $0.rowID == failed.rowID } })
        else { return nil }
        return failed.position
    }

    /// Job.status().lastError is documented as the failure "if the job's group is in error because
    /// of one of this job's files".
    func jobHasLastError(job: Job) -> Bool {
        guard let group = group(job.group), group.state == .error, let failed = group.lastError else { return false }
        return failed.job == job.id
    }

    // MARK: Rows, as the raw queries in SequenceRunner.compareState() render them

    /// The 16 bytes as 32 uppercase hex digits, as SQLite's `hex()` renders a `uuid` column.
    static func hex(_ id: UUID) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return withUnsafeBytes(of: id.uuid) { bytes in
            String(unsafeUninitializedCapacity: 32) { out in
                for (index, byte) in bytes.enumerated() {
                    out[2 * index] = digits[Int(byte >> 4)]
                    out[2 * index + 1] = digits[Int(byte & 0x0F)]
                }
                return 32
            }
        }
    }

    var groupRows: [String] {
        groups.map { "\($0.hex)|\($0.state.rawValue)|\($0.priority.rawValue)|\($0.errorCount)" }
    }

    var jobRows: [String] {
        jobs.map { "\($0.hex)|\($0.groupHex)|\($0.cancelled ? "cancelled" : "active")" }
    }

    var fileRows: [String] {
        jobs.flatMap { job in
            job.files.map { file in
                [
                    String(file.rowID), job.hex, String(file.position), file.local, file.state.rawValue,
                    String(file.bytesDone), file.bytesTotal.map(String.init) ?? "NULL",
                    file.sizeHint.map(String.init) ?? "NULL", file.tempPath ?? "NULL",
                ].joined(separator: "|")
            }
        }
    }

    var eventRows: [String] { events.map(\.row) }

    /// A readable dump of the whole model, for failure messages.
    var dump: String {
        var out = ""
        for group in groups {
            out += "  group \(Self.short(group.id)) \(group.state.rawValue) \(group.priority)"
            out += group.purged ? " (purged)" : ""
            out += group.errorCount > 0 ? " errors \(group.errorCount)" : ""
            out += "\n"
            for job in jobs where job.group == group.id {
                out += "    job \(Self.short(job.id))\(job.cancelled ? " cancelled" : "")\n"
                for file in job.files {
                    out += "      #\(file.rowID) [\(file.position)] \((file.local as NSString).lastPathComponent) \(file.state.rawValue)"
                    out += " \(file.bytesDone)/\(file.bytesTotal.map(String.init) ?? "?") hint \(file.sizeHint.map(String.init) ?? "nil")\n"
                }
            }
        }
        return out.isEmpty ? "  (empty)\n" : out
    }
}
