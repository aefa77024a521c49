import ArgumentParser
import BackgroundCopy
import Foundation

/// `bgcopy download URL... --to DIR`: a one-shot transfer. Creates a foreground group with one
/// file per URL (named after the URL's last path component), runs the engine until the group is
/// complete or fails, and exits 0 only if every file completed.
///
/// If another process already runs the engine on the queue, `download` watches that engine
/// transfer the group instead. While its own engine runs, other resumed groups of the queue
/// may transfer too; they are checkpointed when it stops.
struct Download: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download URLs into a directory now, with progress (exit 0 only if every file completed).")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "http, https or file URLs (or absolute paths) to fetch.")
    var urls: [String]

    @Option(help: ArgumentHelp("The directory to put the files in (created if missing).", valueName: "dir"))
    var to: String

    @Option(help: ArgumentHelp("Expected SHA-256 of each file, in the order of the URLs (repeat once per URL).", valueName: "hex"))
    var sha256: [String] = []

    @Option(help: "The group's display name (default: \"download\" and the first file's name).")
    var name: String?

    @Flag(help: "Print log lines even on a terminal.")
    var plain = false

    func validate() throws {
        guard !urls.isEmpty else { throw ValidationError("give at least one URL") }
        guard sha256.isEmpty || sha256.count == urls.count else {
            throw ValidationError("give --sha256 once per URL (\(urls.count)), or not at all; got \(sha256.count)")
        }
    }

    func run() async throws {
        let directory = Paths.absolute(to)
        let specs = try urls.enumerated().map { index, url in
            FileSpec(
                remote: url, local: directory + "/" + (try Download.fileName(url)),
                sha256: sha256.isEmpty ? nil : sha256[index])
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CLIError(.failure, "cannot create the directory \(directory): \(error.localizedDescription)")
        }
        var configuration = QueueManager.Configuration()
        configuration.checkpointInterval = .seconds(1)
        let manager = try queue.open(configuration)
        let label =
            name ?? "download " + ((specs[0].local as NSString).lastPathComponent)
            + (specs.count > 1 ? " and \(specs.count - 1) more" : "")
        let group = try await manager.createGroup(properties: GroupProperties(displayName: String(label.prefix(256)), priority: .foreground))
        do {
            try await group.createJob().addFiles(specs)
            try await group.resume()
        } catch {
            try? await group.cancel()  // leave no half-made group behind
            throw error
        }
        var session = EngineSession(manager: manager, scope: [group.id], until: .idle)
        session.watchIfEngineRuns = true
        session.title = "bgcopy download"
        if plain { session.bars = false }
        let outcome = try await session.run()
        if let error = outcome.engineError { throw error }
        if let signal = outcome.signal {
            Console.error("hint: group \(group.id) stays queued; `bgcopy run --once` finishes it, `bgcopy cancel \(Format.short(group.id))` drops it")
            throw ExitCode(signal.rawValue)
        }
        guard let final = outcome.groups.first(where: { $0.id == group.id }) else {
            throw CLIError(.failure, "group \(group.id) was cancelled before it completed")
        }
        guard final.status.state == .complete else {
            let reason = final.status.lastError?.error.message ?? "it is \(final.status.state.rawValue)"
            throw CLIError(
                .failure, "download incomplete: \(reason)",
                hint: "`bgcopy files \(Format.short(group.id))` shows each file; `bgcopy resume \(Format.short(group.id))` retries")
        }
        Console.line("downloaded \(specs.count) file\(specs.count == 1 ? "" : "s") to \(directory) (group \(group.id))")
    }

    /// The local name for a URL: its last path component, percent-decoded.
    static func fileName(_ url: String) throws(CLIError) -> String {
        let component: String
        if url.hasPrefix("/") {
            component = (url as NSString).lastPathComponent
        } else if let parsed = URL(string: url) {
            component = parsed.lastPathComponent
        } else {
            throw CLIError.usage("'\(url)' is not a URL")
        }
        guard !component.isEmpty, component != "/", component != ".", component != ".." else {
            throw CLIError.usage(
                "cannot name a file after '\(url)': it has no last path component",
                hint: "use `bgcopy create` and `bgcopy add GROUP REMOTE LOCAL` to choose the name")
        }
        return component
    }
}
