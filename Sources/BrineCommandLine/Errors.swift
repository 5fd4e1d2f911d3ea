import ArgumentParser
import BrineCore
import Foundation

/// Prints a user error as one line on stderr and exits non-zero: no Swift
/// backtrace ever reaches a user.
public func fail(_ error: any Error, code: Int32 = 1) -> ExitCode {
    let message: String
    switch error {
    case let brine as BrineError: message = "Error: \(brine.description)"
    default: message = "Error: \(error)"
    }
    FileHandle.standardError.write(Data((message + "\n").utf8))
    return ExitCode(code)
}

/// Runs a command's body and exits: 0 when it returns, an explicit exit
/// code as given, a user error as one line on stderr and exit code 1.
public func runAndExit(_ body: () throws -> Void) -> Never {
    do {
        try body()
        exit(0)
    } catch let code as ExitCode {
        exit(code.rawValue)
    } catch {
        exit(fail(error).rawValue)
    }
}

/// Runs a command's body: a user error becomes one line on stderr and exit
/// code 1; explicit exit codes pass through.
public func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw fail(error)
    }
}

public func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw fail(error)
    }
}

public func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
