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
        if let problem = compareRows("groups", library: try queue.rows(.groups), model: model.groupRows) { return problem }
        if let problem = compareRows("jobs", library: try queue.rows(.jobs), model: model.jobRows) { return problem }
        if let problem = compareRows("files", library: try queue.rows(.files), model: model.fileRows) { return problem }
        if let problem = compareRows("events", library: try queue.rows(.events), model: model.eventRows) { return problem }
        return try compareAPI()
    }

    func compareAPI() throws -> String? {
        let listed = try queue.groups()
        let live = model.liveGroups
        if listed != live.map(\.id) {
            return "groups(): library \(listed.map(ReferenceModel.short)), model \(live.map(\.id).map(ReferenceModel.short))"
        }
        for expected in live {
            let name = "group \(ReferenceModel.short(expected.id))"
            try queue.lookUp(group: expected.id)
            let status = try queue.status(group: expected.id)
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
            let progress = try queue.progress(group: expected.id)
            let expectedProgress = model.progress(group: expected.id)
            if let problem = compare(progress, expectedProgress, "\(name).progress()") { return problem }
            let jobs = try queue.jobs(group: expected.id)
            let activeJobs = model.activeJobs(of: expected.id)
            if jobs != activeJobs.map(\.id) {
                return "\(name).jobs(): library \(jobs.map(ReferenceModel.short)), model \(activeJobs.map(\.id).map(ReferenceModel.short))"
            }
            for job in activeJobs {
                try queue.lookUp(group: expected.id, job: job.id)
                let jobName = "\(name) job \(ReferenceModel.short(job.id))"
                if let problem = compare(try queue.progress(group: expected.id, job: job.id), ReferenceModel.progress(job.files), "\(jobName).progress()") {
                    return problem
                }
                let status = try queue.status(group: expected.id, job: job.id)
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
                if let problem = expectNotFound(
                    "\(name).job(\(ReferenceModel.short(job)))", { () throws(QueueError) in try queue.lookUp(group: expected.id, job: job) })
                {
                    return problem
                }
            }
        }
        for tombstone in model.cancelledGroups {
            if let problem = expectNotFound(
                "group(\(ReferenceModel.short(tombstone.id))) of a cancelled group",
                { () throws(QueueError) in
                    try queue.lookUp(group: tombstone.id)
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
