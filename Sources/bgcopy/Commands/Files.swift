import ArgumentParser
import BackgroundCopy

/// `bgcopy files GROUP`: every file of a group, job by job (bitsadmin /listfiles).
struct Files: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a group's files: remote, local path, state and bytes.")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    @Flag(help: "Print a JSON array of files (see README).")
    var json = false

    func run() throws {
        let manager = try queue.openExisting()
        let group = try GroupResolver(manager: manager).resolve(group)
        let jobs = try group.jobs()
        let files = try jobs.enumerated().flatMap { index, job in try job.files().map { (index, job, $0) } }
        if json {
            Console.line(JSONValue.array(files.map { JSONModels.file($2, job: $1, jobIndex: $0) }).render(pretty: true))
            return
        }
        guard !files.isEmpty else {
            Console.line("group \(group.id) has no files")
            return
        }
        let showJob = jobs.count > 1
        var table = Table([
            .init(header: showJob ? "JOB.FILE" : "FILE", alignment: .right), .init(header: "STATE"),
            .init(header: "BYTES", alignment: .right), .init(header: "REMOTE", maxWidth: 60), .init(header: "LOCAL"),
        ])
        for (jobIndex, _, file) in files {
            let total = file.bytesTotal ?? file.sizeHint
            table.append([
                showJob ? "\(jobIndex).\(file.index)" : "\(file.index)", file.state.rawValue,
                "\(Format.bytes(file.bytesDone))/\(total.map(Format.bytes) ?? "?")",
                Format.remote(file.remote), file.local,
            ])
        }
        table.render().forEach(Console.line)
    }
}
