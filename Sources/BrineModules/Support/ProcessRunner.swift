import BrineCore
import CBrineShims
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One command to run: the single way Brine starts processes (`cmd.*`,
/// `pkg.*`, `service.*`, `unless`/`onlyif` checks).
public struct Command: Sendable {
    /// The program and its arguments. With `shell`, `[shell, "-c", line]`.
    public var arguments: [String]
    public var cwd: String?
    /// The full environment of the child; `nil` inherits Brine's own.
    public var environment: [String: String]?
    public var stdin: String?
    /// Seconds before the whole process group is killed.
    public var timeout: Double?
    /// Send stderr into the stdout pipe, interleaved as written (Salt's
    /// `redirect_stderr`, what `cmd.run` shows).
    public var mergeStderr = false

    public init(_ arguments: [String], cwd: String? = nil, environment: [String: String]? = nil,
                stdin: String? = nil, timeout: Double? = nil, mergeStderr: Bool = false)
    {
        self.arguments = arguments
        self.cwd = cwd
        self.environment = environment
        self.stdin = stdin
        self.timeout = timeout
        self.mergeStderr = mergeStderr
    }

    /// `/bin/sh -c LINE`, for `python_shell=True`.
    public static func shell(_ line: String, shell: String = "/bin/sh") -> Command {
        Command([shell, "-c", line])
    }
}

public struct ProcessResult: Sendable, Equatable {
    public var pid: Int
    public var retcode: Int
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
}

/// Runs commands with posix_spawn in their own process group, so a timeout
/// kills a shell and everything it started, not just the shell.
public struct ProcessRunner: Sendable {
    public init() {}

    /// Runs the command to completion on the calling thread. Execution
    /// functions are synchronous (as Salt's are, and as Jinja templates call
    /// them); daemons run jobs on their own threads.
    public func run(_ command: Command) throws(BrineError) -> ProcessResult {
        try ProcessRunner.runBlocking(command)
    }

    public static func runBlocking(_ command: Command) throws(BrineError) -> ProcessResult {
        guard let program = command.arguments.first, !program.isEmpty else {
            throw BrineError(.execution, "no command given")
        }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        var inPipe: [Int32] = [-1, -1]
        guard brine_pipe_cloexec(&outPipe) == 0, brine_pipe_cloexec(&errPipe) == 0, brine_pipe_cloexec(&inPipe) == 0 else {
            throw BrineError(.execution, "cannot create pipes: \(systemError(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, command.mergeStderr ? outPipe[1] : errPipe[1], 2)
        brine_spawn_addclosefrom(&actions, 3)
        if let cwd = command.cwd {
            brine_spawn_addchdir(&actions, cwd)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaultSignals, signal) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        if let cwd = command.cwd {
            var info = stat()
            guard stat(cwd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                closeAll(outPipe + errPipe + inPipe)
                throw BrineError(.execution, "working directory '\(cwd)' does not exist or is not a directory")
            }
        }

        let argv = command.arguments.map { strdup($0) } + [nil]
        let envStrings = (command.environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = envStrings.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawnResult: Int32
        if program.contains("/") {
            spawnResult = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        } else {
            // Search PATH of the child's environment, as a shell would.
            let path = command.environment?["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
                ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            let candidates: [String] = path.split(separator: ":").map { dir in "\(dir)/\(program)" }
            let found = candidates.first(where: { access($0, X_OK) == 0 })
            if let found {
                spawnResult = posix_spawn(&pid, found, &actions, &attributes, argv, envp)
            } else {
                spawnResult = ENOENT
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        close(inPipe[0])
        guard spawnResult == 0 else {
            closeAll([outPipe[0], errPipe[0], inPipe[1]])
            if spawnResult == ENOENT {
                throw BrineError(.execution, "command not found: \(program)",
                                 hint: "install it or give its full path")
            }
            throw BrineError(.execution, "cannot run \(program): \(systemError(spawnResult))")
        }
        return collect(pid: pid, command: command, stdout: outPipe[0], stderr: errPipe[0], stdin: inPipe[1])
    }

    private static func closeAll(_ fds: [Int32]) {
        for fd in fds where fd >= 0 { close(fd) }
    }

    /// Feeds stdin, drains both pipes with poll(2) and enforces the timeout.
    private static func collect(pid: pid_t, command: Command, stdout: Int32, stderr: Int32, stdin: Int32) -> ProcessResult {
        var input = Array((command.stdin ?? "").utf8)
        var stdinOpen = true
        if input.isEmpty { close(stdin); stdinOpen = false } else {
            _ = fcntl(stdin, F_SETFL, fcntl(stdin, F_GETFL) | O_NONBLOCK)
        }
        var outData = [UInt8](), errData = [UInt8]()
        var open = [stdout: true, stderr: true]
        if command.mergeStderr { close(stderr); open[stderr] = false }
        let deadline = command.timeout.map { Date().addingTimeInterval($0) }
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open.values.contains(true) {
            var fds: [pollfd] = open.filter(\.value).map { pollfd(fd: $0.key, events: Int16(POLLIN), revents: 0) }
            if stdinOpen { fds.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            var wait: Int32 = -1
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 {
                    timedOut = true
                    kill(-pid, SIGKILL)
                    break
                }
                wait = Int32(min(left * 1000 + 1, 60_000))
            }
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 && errno == EINTR { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdin && stdinOpen {
                    let written = input.withUnsafeBytes { write(stdin, $0.baseAddress, $0.count) }
                    if written > 0 { input.removeFirst(written) }
                    if written < 0 && errno != EAGAIN || input.isEmpty {
                        close(stdin)
                        stdinOpen = false
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == stdout { outData += buffer[0..<count] } else { errData += buffer[0..<count] }
                } else if count == 0 || errno != EINTR && errno != EAGAIN {
                    open[entry.fd] = false
                }
            }
        }
        if stdinOpen { close(stdin) }
        close(stdout)
        if !command.mergeStderr { close(stderr) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let retcode = exited ? Int((status >> 8) & 0xff) : 128 + Int(status & 0x7f)
        return ProcessResult(pid: Int(pid), retcode: timedOut ? -9 : retcode,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self), timedOut: timedOut)
    }
}
