import ArgumentParser
import BackgroundCopy

/// `bgcopy setprop GROUP --name … --priority …` (bitsadmin /setdisplayname, /setpriority, …):
/// changes any of a group's properties in one validated call; the others stay as they are.
struct SetProp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setprop",
        abstract: "Change a group's properties (all given values are validated together).")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    @Option(help: "The display name (1 to 256 characters).")
    var name: String?

    @Option(help: "The description (at most 1,024 characters).")
    var description: String?

    @Option(help: "foreground, high, normal or low.")
    var priority: Priority?

    @Option(name: .customLong("retry-delay"), help: ArgumentHelp("Wait before retrying a transient error (at least 5s): 10m, 45s.", valueName: "duration"))
    var retryDelay: DurationArgument?

    @Option(
        name: .customLong("no-progress-timeout"), help: ArgumentHelp("Give up after this long without progress (0 = never retry): 14d.", valueName: "duration"))
    var noProgressTimeout: DurationArgument?

    @Option(
        help: ArgumentHelp(
            "Notify flags: names separated by commas (fileDone, jobDone, groupDone, error, progress, modification, disable; none, default, all) or a number.",
            valueName: "flags"))
    var notify: NotifyArgument?

    @Option(name: .customLong("header"), help: ArgumentHelp("Set a custom HTTP header (repeatable); replaces one of the same name.", valueName: "name:value"))
    var headers: [HeaderArgument] = []

    @Option(name: .customLong("remove-header"), help: ArgumentHelp("Remove a custom HTTP header (repeatable).", valueName: "name"))
    var removedHeaders: [String] = []

    @Flag(name: .customLong("clear-headers"), help: "Remove every custom HTTP header first.")
    var clearHeaders = false

    @Option(
        name: .customLong("notify-command"),
        help: ArgumentHelp(
            "Run this program (an absolute path; no shell) after each group completion or error the notify flags let through (bitsadmin /setnotifycmdline).",
            valueName: "program"))
    var notifyProgram: String?

    @Option(
        name: .customLong("notify-arg"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("An argument for --notify-command, passed as is (repeatable, in order).", valueName: "argument"))
    var notifyArguments: [String] = []

    @Flag(name: .customLong("clear-notify-command"), help: "Run no command on completion or error.")
    var clearNotifyCommand = false

    func validate() throws {
        let nothing =
            name == nil && description == nil && priority == nil && retryDelay == nil
            && noProgressTimeout == nil && notify == nil && headers.isEmpty && removedHeaders.isEmpty && !clearHeaders
            && notifyProgram == nil && !clearNotifyCommand
        if nothing { throw ValidationError("give at least one property to change (see --help)") }
        if notifyProgram == nil && !notifyArguments.isEmpty { throw ValidationError("--notify-arg needs --notify-command") }
        if notifyProgram != nil && clearNotifyCommand {
            throw ValidationError("--notify-command and --clear-notify-command cannot be given together")
        }
    }

    func run() throws {
        let manager = try queue.open()
        let group = try GroupResolver(manager: manager).resolve(group)
        var properties = try group.properties()
        if let name { properties.displayName = name }
        if let description { properties.description = description }
        if let priority { properties.priority = priority }
        if let retryDelay { properties.retryDelay = retryDelay.duration }
        if let noProgressTimeout { properties.noProgressTimeout = noProgressTimeout.duration }
        if let notify { properties.notifyFlags = notify.flags }
        if clearHeaders { properties.httpHeaders = [] }
        let removed = Set(removedHeaders.map { $0.lowercased() } + headers.map { $0.header.name.lowercased() })
        properties.httpHeaders.removeAll { removed.contains($0.name.lowercased()) }
        properties.httpHeaders += headers.map(\.header)
        if clearNotifyCommand { properties.notifyCommand = nil }
        if let notifyProgram { properties.notifyCommand = NotifyCommand(program: notifyProgram, arguments: notifyArguments) }
        try group.setProperties(properties)
        Console.line("updated \(group.id)")
    }
}
