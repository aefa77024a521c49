import Foundation

/// Runs one server program to completion, bounded in time, and returns what it printed.
///
/// `posix_spawn` and `waitpid`, not Foundation's `Process`: `Process` learns of a child's exit
/// from a SIGCHLD handler that a test thread (whose signals are blocked) may never run, and then
/// waits forever on a child that has long exited. The child starts with no blocked signals.
enum ServerCommand {
    /// Runs `arguments` (the program first) in `directory`; returns standard output. Output goes
    /// to files, not pipes, so a chatty program can never fill a pipe and hang.
    ///
    /// - Throws: ``PostgresCluster/Failure`` with the program's output when it exits non-zero or
    ///   is still running after `timeout` (then it is killed).
    @discardableResult
    static func run(_ arguments: [String], in directory: String, timeout: Duration) throws(PostgresCluster.Failure) -> String {
        let output = directory + "/.command-\(UUID().uuidString).out"
        let errors = output + ".err"
        defer {
            unlink(output)
            unlink(errors)
        }
        let command = arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        // `cd` first, so a server user who may not enter the caller's directory is never asked to.
        let argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + arguments
        let pid = try spawn(argv, output: output, errors: errors)
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        var timedOut = false
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { throw PostgresCluster.Failure("waitpid for \(command) failed: errno \(errno)") }
            if !timedOut && ContinuousClock.now >= deadline {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(5_000)
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let complaints = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        if timedOut {
            throw PostgresCluster.Failure("\(command) did not finish within \(timeout): \(printed)\(complaints)")
        }
        let exited = status & 0x7F == 0
        let code = (status >> 8) & 0xFF
        guard exited && code == 0 else {
            let how = exited ? "status \(code)" : "signal \(status & 0x7F)"
            throw PostgresCluster.Failure("\(command) failed (\(how)): \(printed)\(complaints)")
        }
        return printed
    }

    /// Starts `argv` with standard input from /dev/null and output and errors into the two files.
    private static func spawn(_ argv: [String], output: String, errors: String) throws(PostgresCluster.Failure) -> pid_t {
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArguments = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard result == 0 else { throw PostgresCluster.Failure("cannot run \(argv.dropFirst(4).first ?? argv[0]): errno \(result)") }
        return pid
    }
}

extension PostgresCluster {
    /// A loopback port nothing listens on right now (the kernel's choice for port 0).
    static func freePort() throws(Failure) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw Failure("could not find a free loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on the port before the deadline.
    static func waitUntilListening(port: Int, deadline: ContinuousClock.Instant) -> Bool {
        repeat {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = loopback(port: port)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return true }
            usleep(20_000)
        } while ContinuousClock.now < deadline
        return false
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
