import Foundation
@testable import BackgroundCopy

/// Comparing the queue with the model after an operation: every table row, then the public API.
extension SequenceRunner {

    func compareRows(_ table: String, library: [String], model: [String]) -> String? {
        guard library != model else { return nil }
        var out = "\(table) rows differ (library | model):"
        for index in 0..<max(library.count, model.count) {
            let left = index < library.count ? library[index] : "-"
            let right = index < model.count ? model[index] : "-"
            out += "\n  \(left == right ? " " : "≠") \(left)\(left == right ? "" : "  |  \(right)")"
        }
        return out
    }

    /// Every table row the model predicts, then the public API's view of each live and cancelled object.
    func compareState() throws -> String? {
        let groups = try raw.rows("SELECT hex(uuid), state, priority, error_count FROM groups ORDER BY id")
        if let problem = compareRows("groups", library: groups, model: model.groupRows) { return problem }
        let jobs = try raw.rows("SELECT hex(j.uuid), hex(g.uuid), j.state FROM jobs j JOIN groups g ON g.id = j.group_id ORDER BY j.id")
        if let problem = compareRows("jobs", library: jobs, model: model.jobRows) { return problem }
        let files = try raw.rows(
            """
            SELECT f.id, hex(j.uuid), f.position, f.local_path, f.state, f.bytes_done, f.bytes_total, f.size_hint, f.temp_path
            FROM files f JOIN jobs j ON j.id = f.job_id ORDER BY j.id, f.position
            """)
        if let problem = compareRows("files", library: files, model: model.fileRows) { return problem }
        let events = try raw.rows(
            """
            SELECT hex(g.uuid), CASE WHEN j.uuid IS NULL THEN NULL ELSE hex(j.uuid) END, e.file_index, e.kind
            FROM events e JOIN groups g ON g.id = e.group_id LEFT JOIN jobs j ON j.id = e.job_id ORDER BY e.seq
            """)
        if let problem = compareRows("events", library: events, model: model.eventRows) { return problem }
        return try compareAPI()
    }

    func compareAPI() throws -> String? {
        let listed = try manager.groups().map(\.id.uuid)
        let live = model.liveGroups
        if listed != live.map(\.id) {
            return "groups(): library \(listed.map(ReferenceModel.short)), model \(live.map(\.id).map(ReferenceModel.short))"
        }
        for expected in live {
            let name = "group \(ReferenceModel.short(expected.id))"
            let group = try manager.group(GroupID(expected.id))
            let status = try group.status()
            let currentJob = model.currentJobIndex(group: expected.id)
            if status.state != expected.state || status.currentJobIndex != currentJob || status.errorCount != expected.errorCount {
                return "\(name).status(): library \(status.state) job \(status.currentJobIndex.map(String.init) ?? "nil") errors \(status.errorCount), "
                    + "model \(expected.state) job \(currentJob.map(String.init) ?? "nil") errors \(expected.errorCount)"
            }
            let flags = status.flags
            if flags.contains(.groupForeground) != (expected.priority == .foreground)
                || flags.contains(.groupError) != (expected.state == .error)
                || flags.contains(.groupComplete) != (expected.state == .complete)
                || flags.contains(.groupSuspended) != [.suspended, .complete, .error].contains(expected.state)
                || flags.contains(.groupIncomplete) == (expected.state == .complete)
            {
                return "\(name).status().flags \(flags) do not match state \(expected.state), priority \(expected.priority)"
            }
            // GroupStatus.lastError is documented as "the last failure, while the group is in error".
            let lastError = status.lastError.map { "fileIndex \($0.fileIndex.map(String.init) ?? "nil")" }
            let expectedError = expected.state == .error ? "fileIndex \(model.lastErrorFileIndex(group: expected).map(String.init) ?? "nil")" : nil
            if lastError != expectedError {
                return "\(name).status().lastError: library \(lastError ?? "nil"), model \(expectedError ?? "nil")"
            }
            let progress = try group.progress()
            let expectedProgress = model.progress(group: expected.id)
            if let problem = compare(progress, expectedProgress, "\(name).progress()") { return problem }
            let jobs = try group.jobs().map(\.id.uuid)
            let activeJobs = model.activeJobs(of: expected.id)
            if jobs != activeJobs.map(\.id) {
                return "\(name).jobs(): library \(jobs.map(ReferenceModel.short)), model \(activeJobs.map(\.id).map(ReferenceModel.short))"
            }
            for job in activeJobs {
                let handle = try group.job(JobID(job.id))
                let jobName = "\(name) job \(ReferenceModel.short(job.id))"
                if let problem = compare(try handle.progress(), ReferenceModel.progress(job.files), "\(jobName).progress()") { return problem }
                let status = try handle.status()
                if status.currentFileIndex != model.currentFileIndex(job: job) {
                    return
                        "\(jobName).status().currentFileIndex: library \(status.currentFileIndex.map(String.init) ?? "nil"), model \(model.currentFileIndex(job: job).map(String.init) ?? "nil")"
                }
                if (status.lastError != nil) != model.jobHasLastError(job: job) {
                    return
                        "\(jobName).status().lastError: library \(status.lastError.map { "\($0)" } ?? "nil"), model \(model.jobHasLastError(job: job) ? "the group's failure" : "nil")"
                }
            }
            for (_, job) in jobHistory.filter({ $0.group == expected.id }) where !activeJobs.contains(where: { $0.id == job }) {
                if let problem = expectNotFound("\(name).job(\(ReferenceModel.short(job)))", { () throws(QueueError) in _ = try group.job(JobID(job)) }) {
                    return problem
                }
            }
        }
        for tombstone in model.cancelledGroups {
            if let problem = expectNotFound(
                "group(\(ReferenceModel.short(tombstone.id))) of a cancelled group",
                { () throws(QueueError) in
                    _ = try manager.group(GroupID(tombstone.id))
                })
            {
                return problem
            }
        }
        return nil
    }

    func expectNotFound(_ what: String, _ body: () throws(QueueError) -> Void) -> String? {
        do {
            try body()
            return "\(what): library succeeded, model says notFound"
        } catch {
            return error.code == .notFound ? nil : "\(what): library \(error), model says notFound"
        }
    }

    func compare(_ library: TransferProgress, _ model: ReferenceModel.Progress, _ what: String) -> String? {
        let rendered = ReferenceModel.Progress(
            bytesDone: library.bytesDone, bytesTotal: library.bytesTotal, filesDone: library.filesDone,
            filesTotal: library.filesTotal, filesOfUnknownSize: library.filesOfUnknownSize)
        if rendered != model || library.percent != model.percent {
            return "\(what): library \(rendered) (percent \(library.percent)), model \(model)"
        }
        return nil
    }
}
