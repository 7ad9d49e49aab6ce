"""
The C++ of the fork server that `brianlearn.codepatch.patch_fork_server` adds to a generated
``main.cpp`` (the client: `brianlearn.forkserver`). ``@VARIABLE@`` stands for the environment
variable that names the descriptor of the replies.
"""

__all__ = ["SERVE_MARK", "SERVER"]

SERVE_MARK = "// (brianlearn) a fork server, v2"
SERVER = SERVE_MARK + """: where $@VARIABLE@ names a file descriptor, the binary reads
// requests from its standard input and, for each, forks a child that runs the generated main as a
// new process of this binary would, then writes the child's exit status and a newline to that
// descriptor. A request is a list of NUL-terminated strings: the file for the child's standard
// output ("-": this process's), NAME=VALUE settings of the child's environment, "--", the
// arguments; an empty string ends it. The end of the input ends the server. A replayed chunk
// then costs a fork instead of starting and linking a new process (brianlearn.forkserver). On
// Linux a child is killed when its server ends (PR_SET_PDEATHSIG), so that a client that kills
// its server (an interrupted run, a server that stopped answering) leaves no child writing.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <csignal>
#include <sys/prctl.h>
#endif

static int _bl_child(const std::vector<std::string> &fields, char *program)
{
    if (fields[0] != "-") {
        const int out = open(fields[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (out < 0 || dup2(out, 1) < 0)
            return 127;
        close(out);
    }
    const int none = open("/dev/null", O_RDONLY);
    if (none >= 0) {
        dup2(none, 0);
        close(none);
    }
    unsetenv("@VARIABLE@");
    size_t i = 1;
    for (; i < fields.size() && fields[i] != "--"; i++) {
        const size_t equal = fields[i].find('=');
        if (equal == std::string::npos || setenv(fields[i].substr(0, equal).c_str(), fields[i].c_str() + equal + 1, 1))
            return 127;
    }
    std::vector<char *> argv(1, program);
    for (i++; i < fields.size(); i++)
        argv.push_back(const_cast<char *>(fields[i].c_str()));
    argv.push_back(NULL);
    return _bl_main((int)argv.size() - 1, argv.data());
}

static int _bl_serve(int reply, char *program)
{
    for (;;) {
        std::vector<std::string> fields;
        std::string field;
        while (std::getline(std::cin, field, '\\0') && !field.empty())
            fields.push_back(field);
        if (!std::cin || fields.empty())
            return 0;
        const pid_t server = getpid();
        const pid_t pid = fork();
        if (pid == 0) {
#ifdef __linux__
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != server)
                std::_Exit(125);
#endif
            close(reply);
            std::exit(_bl_child(fields, program));
        }
        int status = 0, code = 126;
        if (pid > 0) {
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
        char text[16];
        const int length = std::snprintf(text, sizeof text, "%d\\n", code);
        if (write(reply, text, length) != length)
            return 1;
    }
}

int main(int argc, char **argv)
{
    const char *reply = std::getenv("@VARIABLE@");
    if (reply && reply[0])
        return _bl_serve(std::atoi(reply), argv[0]);
    return _bl_main(argc, argv);
}
"""
