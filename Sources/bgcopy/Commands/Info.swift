import ArgumentParser
import BackgroundCopy

/// `bgcopy info GROUP`: everything about one group (bitsadmin /info /verbose).
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a group's properties, status, progress and last error.")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    @Flag(help: "Print a JSON object (see README).")
    var json = false

    func run() throws {
        let manager = try queue.openExisting()
        let group = try GroupResolver(manager: manager).resolve(group)
        guard let snapshot = try GroupSnapshot.read(group) else { throw CLIError.cancelledMeanwhile(group.id) }
        let rate = snapshot.status.state == .transferring ? try EventRates.recent(manager)[group.id] : nil
        let jobs = snapshot.jobs.map { ($0.job, $0.progress) }
        if json {
            Console.line(JSONModels.info(snapshot, rate: rate, jobs: jobs).render(pretty: true))
            return
        }
        let properties = snapshot.properties
        let status = snapshot.status
        let progress = snapshot.progress
        let command = properties.notifyCommand.map { $0.argv.map(Format.shellQuoted).joined(separator: " ") }
        var lines: [(String, String)] = [
            ("id", group.id.description),
            ("name", properties.displayName),
            ("description", properties.description.isEmpty ? "-" : properties.description),
            ("state", status.state.rawValue),
            ("priority", properties.priority.description),
            ("flags", String(format: "0x%03x ", status.flags.rawValue) + JSONModels.statusFlagNames(status.flags).joined(separator: " ")),
            (
                "files",
                "\(progress.filesDone)/\(progress.filesTotal) complete"
                    + (progress.filesOfUnknownSize > 0 ? " (\(progress.filesOfUnknownSize) of unknown size)" : "")
            ),
            ("bytes", "\(Format.bytes(progress.bytesDone)) of \(Format.bytes(progress.bytesTotal)) (\(progress.percent)%)"),
            ("rate", Format.rate(rate)),
            ("jobs", "\(jobs.count)" + (status.currentJobIndex.map { ", current \($0)" } ?? "")),
            ("notify", NotifyArgument.describe(properties.notifyFlags).joined(separator: ",").nonEmpty ?? "none"),
            ("notify command", command ?? "none"),
            ("retry delay", Format.duration(properties.retryDelay)),
            ("no-progress timeout", Format.duration(properties.noProgressTimeout)),
            ("errors", "\(status.errorCount)"),
        ]
        for header in properties.httpHeaders { lines.append(("header", "\(header.name): \(Secrets.display(header))")) }
        if let failure = status.lastError {
            var text = "\(failure.error.code): \(failure.error.message)"
            if let index = failure.fileIndex { text += " (file \(index)" + (failure.retries > 0 ? ", \(failure.retries) retries)" : ")") }
            lines.append(("last error", text))
        }
        let width = lines.map(\.0.count).max() ?? 0
        for (key, value) in lines {
            Console.line(key + ":" + String(repeating: " ", count: width - key.count + 1) + value)
        }
    }
}

extension String {
    /// `nil` for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}
