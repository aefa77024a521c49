import ArgumentParser

/// `bgcopy`: the operator's command line for a BackgroundCopy queue (bitsadmin's counterpart).
@main
struct BGCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgcopy",
        abstract: "Steer a BackgroundCopy transfer queue.",
        subcommands: [Demo.self]
    )
}
