import Foundation
@testable import BackgroundCopy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Applying one operation to the queue and to the model, and checking the files it touched.
extension SequenceRunner {

    func differ(_ library: ReferenceModel.Outcome, _ expected: ReferenceModel.Outcome, _ detail: String = "") -> String? {
        library == expected ? nil : "outcome: library \(library), model \(expected)\(detail)"
    }

    /// Applies the operation to the queue and the model; returns a description of any disagreement.
    func apply(_ operation: ModelOperation) throws -> String? {
        var lastError: QueueError?
        /// Runs `body` against the library; a thrown error becomes its code (the message keeps the error).
        func capture(_ body: () throws(QueueError) -> ReferenceModel.Outcome) -> ReferenceModel.Outcome {
            do {
                return try body()
            } catch {
                lastError = error
                return .failed(ReferenceModel.Failure(rawValue: error.code.description) ?? .storage)
            }
        }
        let library: ReferenceModel.Outcome
        let expected: ReferenceModel.Outcome
        switch operation {
        case .createGroup(let id, let priority, let valid):
            var created: UUID?
            library = capture { () throws(QueueError) in
                let properties = GroupProperties(displayName: valid ? "group" : "", priority: priority)
                created = try queue.createGroup(id: id, properties: properties)
                return .ok
            }
            expected = model.createGroup(id: id ?? created ?? UUID(), priority: priority, validProperties: valid)
        case .createJob(let group, let job):
            var created: UUID?
            library = capture { () throws(QueueError) in
                created = try queue.createJob(group: group, job: job)
                return .ok
            }
            let id = job ?? created ?? UUID()
            expected = model.createJob(group: group, id: id)
            if expected == .ok { jobHistory.append((group, id)) }
        case .addFiles(let group, let job, let specs):
            library = capture { () throws(QueueError) in
                try queue.addFiles(group: group, job: job, specs.map { FileSpec(remote: $0.remote, local: $0.local, sizeHint: $0.sizeHint) })
                return .ok
            }
            let rowIDs = Set(model.allFiles.map(\.rowID))
            expected = model.addFiles(group: group, job: job, specs: specs)
            if expected == .ok {
                let added = model.allFiles.map(\.rowID).filter { !rowIDs.contains($0) }
                if added.contains(where: everUsedRowIDs.contains) { tally["addFiles reused the row ID of a purged file", default: 0] += 1 }
                everUsedRowIDs.formUnion(added)
            }
        case .suspend(let group):
            if model.group(group)?.state == .transferring { tally["suspend of a transferring group", default: 0] += 1 }
            library = capture { () throws(QueueError) in
                try queue.suspend(group: group); return .ok
            }
            expected = model.suspend(group)
        case .resume(let group):
            library = capture { () throws(QueueError) in
                try queue.resume(group: group); return .ok
            }
            expected = model.resume(group)
        case .switchToForeground(let group):
            library = capture { () throws(QueueError) in
                try queue.switchToForeground(group: group); return .ok
            }
            expected = model.switchToForeground(group)
        case .setPriority(let group, let priority):
            library = capture { () throws(QueueError) in
                try queue.setProperties(group: group, GroupProperties(displayName: "renamed", priority: priority))
                return .ok
            }
            expected = model.setPriority(group, priority)
        case .cancelGroup(let group):
            let before = model.activeJobs(of: group).flatMap(\.files)
            for file in before { tally["cancel group saw a \(file.state.rawValue) file", default: 0] += 1 }
            library = capture { () throws(QueueError) in
                try queue.cancel(group: group); return .ok
            }
            expected = model.cancelGroup(group)
            if library == .ok, expected == .ok, let problem = checkCancelledFiles(before) { return problem }
        case .cancelJob(let group, let job):
            let before = model.jobs.first { $0.id == job && $0.group == group && !$0.cancelled }?.files ?? []
            for file in before { tally["cancel job saw a \(file.state.rawValue) file", default: 0] += 1 }
            library = capture { () throws(QueueError) in
                try queue.cancel(group: group, job: job); return .ok
            }
            expected = model.cancelJob(group: group, job: job)
            if let state = model.group(group)?.state, [.queued, .transferring, .error].contains(state), model.currentJobIndex(group: group) == nil {
                tally["cancel job left its group \(state.rawValue) with nothing to transfer", default: 0] += 1
            }
            if library == .ok, expected == .ok, let problem = checkCancelledFiles(before) { return problem }
        case .purgeTombstones(let after):
            let cutoff = after ? Date().addingTimeInterval(3600) : Date(timeIntervalSince1970: 0)
            library = capture { () throws(QueueError) in .purged(try queue.purgeTombstones(olderThan: cutoff)) }
            expected = model.purgeTombstones(cutoffAfterEveryCancellation: after)
        case .claimNextFile:
            library = capture { () throws(QueueError) in
                guard let claim = try queue.claimNextFile() else { return .claim(nil) }
                return .claim(
                    ReferenceModel.Claimed(
                        fileRowID: claim.fileRowID, group: claim.groupID.uuid, remote: claim.remote, local: claim.local,
                        tempPath: claim.tempPath, bytesDone: claim.bytesDone, bytesTotal: claim.bytesTotal))
            }
            expected = model.claimNextFile()
            if case .claim(let claim?) = library {
                // The engine's step 1: the temp file, holding the committed bytes.
                try writeTemp(claim.tempPath, bytes: claim.bytesDone)
                if !claimed.contains(claim.fileRowID) { claimed.append(claim.fileRowID) }
            }
        case .checkpoint(let file, let done, let total):
            if let temp = heldTemp(file) { try writeTemp(temp, bytes: done) }
            library = capture { () throws(QueueError) in
                .flag(try queue.checkpoint(file, bytesDone: done, bytesTotal: total, validator: "\"v1\""))
            }
            expected = model.checkpoint(file, bytesDone: done, bytesTotal: total)
        case .beginFinalizing(let file, let total):
            if let temp = heldTemp(file) { try writeTemp(temp, bytes: total) }
            library = capture { () throws(QueueError) in .flag(try queue.beginFinalizing(file, bytesTotal: total)) }
            expected = model.beginFinalizing(file, bytesTotal: total)
        case .complete(let file):
            let before = model.file(file)
            if let before, before.state == .finalizing, let temp = before.tempPath { try renameIntoPlace(temp, before.local) }
            library = capture { () throws(QueueError) in
                try queue.complete(file); return .ok
            }
            expected = model.complete(file)
            if library == .ok, expected == .ok, let before, let problem = checkCompleteFile(before) { return problem }
        case .finish(let file, let total):
            let before = model.file(file)
            if let temp = heldTemp(file) { try writeTemp(temp, bytes: total) }
            library = capture { () throws(QueueError) in
                guard try queue.beginFinalizing(file, bytesTotal: total) else { return .flag(false) }
                if let before, let temp = before.tempPath { try? renameIntoPlace(temp, before.local) }
                try queue.complete(file)
                return .flag(true)
            }
            expected = model.finish(file, bytesTotal: total)
            if library == .flag(true), expected == .flag(true), let before, let problem = checkCompleteFile(before) { return problem }
        case .fail(let file):
            library = capture { () throws(QueueError) in
                .flag(try queue.fail(file, error: QueueError(.transfer, "HTTP 404", httpStatus: 404), retries: 0))
            }
            expected = model.fail(file)
        case .release(let file):
            library = capture { () throws(QueueError) in
                try queue.release(file); return .ok
            }
            expected = model.release(file)
        }
        tally["\(operation.name) → \(expected.kindDescription)", default: 0] += 1
        log[log.count - 1] += " → \(expected)"
        return differ(library, expected, lastError.map { " (\($0))" } ?? "")
    }

    /// The temp path of a file the model says the engine still holds (transferring, group transferring).
    func heldTemp(_ rowID: Int64) -> String? {
        guard let file = model.file(rowID), file.state == .transferring,
            let job = model.jobs.first(where: { $0.files.contains { $0.rowID == rowID } }),
            model.group(job.group)?.state == .transferring
        else { return nil }
        return file.tempPath
    }

    func writeTemp(_ path: String, bytes: UInt64) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x61, count: Int(bytes))) else {
            throw QueueError(.fileSystem, "cannot write temp file \(path)")
        }
    }

    func renameIntoPlace(_ temp: String, _ local: String) throws {
        guard rename(temp, local) == 0 else { throw QueueError(.fileSystem, "cannot rename \(temp) to \(local): errno \(errno)") }
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// After a cancel (DESIGN.md, Durability step 4): no temp file of a cancelled file is left, and
    /// every retained file is at its local path.
    func checkCancelledFiles(_ files: [ReferenceModel.File]) -> String? {
        for file in files {
            if let temp = file.tempPath, exists(temp) {
                return "file system: temp file \(temp) of cancelled file #\(file.rowID) (\(file.state.rawValue)) still exists"
            }
            if (file.state == .complete || file.state == .finalizing) && !exists(file.local) {
                return "file system: retained file #\(file.rowID) is not at its local path \(file.local)"
            }
        }
        return nil
    }

    func checkCompleteFile(_ file: ReferenceModel.File) -> String? {
        if !exists(file.local) { return "file system: completed file #\(file.rowID) is not at \(file.local)" }
        if let temp = file.tempPath, exists(temp) { return "file system: temp file \(temp) of completed file #\(file.rowID) still exists" }
        return nil
    }
}
