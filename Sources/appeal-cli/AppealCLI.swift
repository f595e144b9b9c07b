import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix

@main
struct AppealCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appeal-cli",
        abstract: "Urgent-appeal letter campaigns: targets, supporters, personalized letters, tracked delivery.",
        version: "appeal-cli \(version)",
        subcommands: [
            InitCommand.self, CampaignCommand.self, TargetCommand.self, SupporterCommand.self,
            LetterCommand.self, QueueCommand.self, SendCommand.self, RetryCommand.self, StatusCommand.self, ExportCommand.self, ServeCommand.self,
            BouncesCommand.self, DatabaseCommand.self,
        ])

    /// The release this binary was built from.
    static let version = "0.11.0"

    /// Exit codes are the documented ones: bad arguments are bad input (2), not ArgumentParser's 64.
    static func main() async {
        // Databases and letters hold personal data: nothing we create is readable by others.
        umask(0o077)
        // A closed pipe under standard output is an error to report (exit 1), not a silent death by signal.
        signal(SIGPIPE, SIG_IGN)
        // The web server's requests and Swift's tasks on the same threads: no hop between NIO's event loops and
        // the concurrency pool on each request. Blocking work runs on threads of its own (ThreadExecutor), never
        // on these. Only here, on the main thread before the first suspension, can it be installed.
        if CommandLine.arguments.dropFirst().contains("serve") {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        let verbose = CommandLine.arguments.contains("--verbose")
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return handler
        }
        do {
            var command = try parseAsRoot(movingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            checkStandardOutput()
        } catch {
            checkStandardOutput()
            let code = exitCode(for: error)
            // --help and --version: their text goes through the same checked output.
            if code == .success {
                print(fullMessage(for: error))
                checkStandardOutput()
                Foundation.exit(0)
            }
            if code == .validationFailure {
                writeStandardError(fullMessage(for: error) + "\n")
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    /// `print` is buffered: a full disk or a closed pipe under standard output shows only once it is flushed,
    /// and must not pass for success.
    static func checkStandardOutput() {
        if let problem = StandardOutput.finish() {
            printError("cannot write to standard output: \(problem)")
            Foundation.exit(1)
        }
    }

    /// Global options may come before the command (`appeal-cli --db x.sqlite status …`); ArgumentParser
    /// reads them after it, so leading `--config`, `--db` and `--verbose` are moved to the end.
    static func movingGlobalOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--verbose" {
                leading.append(first)
                rest = rest.dropFirst()
            } else if first == "--config" || first == "--db", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--config=") || first.hasPrefix("--db=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        return Array(rest) + leading
    }
}
