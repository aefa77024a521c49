import BackgroundCopy
import Foundation

/// The documented `--json` shapes ("The bgcopy command line", Documentation.docc/CommandLineTool.md). Keys appear in this order, always;
/// an unknown value is `null`. New keys may be added at the end of an object, none removed.
enum JSONModels {
    /// A group in `list --json` (an array of these) and the head of `info --json`.
    static func group(_ snapshot: GroupSnapshot, rate: Double?) -> [(String, JSONValue)] {
        let progress = snapshot.progress
        return [
            ("id", .string(snapshot.id.description)),
            ("name", .string(snapshot.properties.displayName)),
            ("state", .string(snapshot.status.state.rawValue)),
            ("priority", .string(snapshot.properties.priority.description)),
            ("filesDone", .number(progress.filesDone)),
            ("filesTotal", .number(progress.filesTotal)),
            ("bytesDone", .number(progress.bytesDone)),
            ("bytesTotal", .number(progress.bytesTotal)),
            ("filesOfUnknownSize", .number(progress.filesOfUnknownSize)),
            ("percent", .number(progress.percent)),
            ("bytesPerSecond", rate.map { .int(Int64($0.rounded())) } ?? .null),
            ("errorCount", .number(snapshot.status.errorCount)),
        ]
    }

    /// `info --json`: the group fields, then its settings, jobs and last error.
    static func info(_ snapshot: GroupSnapshot, rate: Double?, jobs: [(Job, TransferProgress)]) -> JSONValue {
        let properties = snapshot.properties
        let status = snapshot.status
        var members = group(snapshot, rate: rate)
        members += [
            ("description", .string(properties.description)),
            ("statusFlags", .array(statusFlagNames(status.flags).map { .string($0) })),
            ("statusFlagsValue", .int(Int64(status.flags.rawValue))),
            ("notify", .array(NotifyArgument.describe(properties.notifyFlags).map { .string($0) })),
            ("notifyValue", .int(Int64(properties.notifyFlags.rawValue))),
            ("notifyCommand", properties.notifyCommand.map { .array($0.argv.map { .string($0) }) } ?? .null),
            ("retryDelaySeconds", seconds(properties.retryDelay)),
            ("noProgressTimeoutSeconds", seconds(properties.noProgressTimeout)),
            (
                "headers",
                .array(
                    properties.httpHeaders.map { header in
                        .object([("name", .string(header.name)), ("value", .string(Secrets.display(header)))])
                    })
            ),
            ("currentJobIndex", .optional(status.currentJobIndex)),
            (
                "jobs",
                .array(
                    jobs.map { job, progress in
                        .object([
                            ("id", .string(job.id.description)),
                            ("filesDone", .number(progress.filesDone)),
                            ("filesTotal", .number(progress.filesTotal)),
                            ("bytesDone", .number(progress.bytesDone)),
                            ("bytesTotal", .number(progress.bytesTotal)),
                        ])
                    })
            ),
            ("lastError", status.lastError.map(failure) ?? .null),
        ]
        return .object(members)
    }

    /// One file in `files --json` (an array of these, in job then file order).
    static func file(_ file: FileInfo, job: Job, jobIndex: Int) -> JSONValue {
        .object([
            ("job", .string(job.id.description)),
            ("jobIndex", .number(jobIndex)),
            ("index", .number(file.index)),
            ("remote", .string(file.remote)),
            ("local", .string(file.local)),
            ("state", .string(file.state.rawValue)),
            ("bytesDone", .number(file.bytesDone)),
            ("bytesTotal", .optional(file.bytesTotal)),
            ("sizeHint", .optional(file.sizeHint)),
            ("sha256", .optional(file.sha256)),
        ])
    }

    /// One event in `events --json` (JSON Lines: one object a line).
    static func event(_ event: QueueEvent) -> JSONValue {
        .object([
            ("sequence", .int(event.sequence)),
            ("date", .string(Format.timestamp(event.date))),
            ("kind", .string(event.kind.rawValue)),
            ("group", .string(event.groupID.description)),
            ("job", .optional(event.jobID?.description)),
            ("fileIndex", .optional(event.fileIndex)),
            ("groupState", .string(event.groupState.rawValue)),
            ("detail", .string(event.detail)),
        ])
    }

    static func failure(_ failure: TransferFailure) -> JSONValue {
        .object([
            ("code", .string(failure.error.code.description)),
            ("message", .string(failure.error.message)),
            ("fileIndex", .optional(failure.fileIndex)),
            ("retries", .number(failure.retries)),
            ("httpStatus", .optional(failure.error.httpStatus)),
            ("systemError", .optional(failure.error.systemError.map(Int.init))),
            ("hresult", .string(String(format: "0x%08X", failure.error.hresult))),
        ])
    }

    /// QMGR's status flag names, for the flags set.
    static func statusFlagNames(_ flags: StatusFlags) -> [String] {
        let names: [(String, StatusFlags)] = [
            ("groupComplete", .groupComplete), ("groupIncomplete", .groupIncomplete),
            ("groupSuspended", .groupSuspended), ("groupError", .groupError), ("groupForeground", .groupForeground),
        ]
        return names.filter { flags.contains($0.1) }.map(\.0)
    }

    private static func seconds(_ duration: Duration) -> JSONValue {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? .int(milliseconds / 1000) : .double(Double(milliseconds) / 1000)
    }
}

/// Keeps what may be a credential off the screen.
enum Secrets {
    private static let hints = ["key", "token", "secret", "auth", "pass", "session", "signature", "credential"]

    /// A header's value, or `***` when its name suggests a secret (an API key or token header).
    static func display(_ header: HTTPHeader) -> String {
        let name = header.name.lowercased()
        return hints.contains { name.contains($0) } ? "***" : header.value
    }
}
