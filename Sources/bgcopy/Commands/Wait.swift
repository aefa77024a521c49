import ArgumentParser
import BackgroundCopy

/// `bgcopy wait GROUP`: blocks until the group is complete or in error, whoever runs the engine
/// (`bgcopy run` in another shell, a host application). It only reads the queue.
///
/// Exit status by outcome: 0 complete, 1 in error (the error is printed), 3 not found or
/// cancelled while waiting. A suspended group is waited for until someone resumes it.
struct Wait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait until a group is complete (exit 0) or in error (exit 1); 3 if it is cancelled.")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    @Option(help: ArgumentHelp("Seconds between looks at the group (default 0.25).", valueName: "seconds"))
    var interval: Double = 0.25

    func validate() throws {
        guard interval >= 0.05, interval <= 60 else { throw ValidationError("--interval must be 0.05 to 60 seconds, not \(interval)") }
    }

    func run() async throws {
        let manager = try queue.openExisting()
        let group = try GroupResolver(manager: manager).resolve(group)
        while true {
            let status: GroupStatus
            do {
                status = try await group.status()
            } catch {
                guard error.code == .notFound else { throw error }
                throw CLIError(.notFound, "group \(group.id) was cancelled", hint: "`bgcopy events --group GROUP` shows what happened")
            }
            switch status.state {
            case .complete:
                Console.line("complete \(group.id)")
                return
            case .error:
                let reason =
                    status.lastError.map { failure in
                        (failure.fileIndex.map { "file \($0): " } ?? "") + failure.error.message
                    } ?? "no error recorded"
                throw CLIError(.failure, "group \(group.id) is in error: \(reason)", hint: "`bgcopy info GROUP` shows the details")
            default:
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }
}
