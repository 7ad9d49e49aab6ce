"""
The C++ of the fork server that `brianlearn.codepatch.patch_fork_server` adds to a generated
``main.cpp`` (the client: `brianlearn.forkserver`). ``@VARIABLE@`` stands for the environment
variable that names the descriptor of the replies.
"""

__all__ = ["SERVE_MARK", "SERVER"]

SERVE_MARK = "// (brianlearn) a fork server, v5"
SERVER = SERVE_MARK + """: where $@VARIABLE@ names a file descriptor, the binary serves
// requests from its standard input: each is run by a child that runs the generated main as a new
// process of this binary would, and its exit status and a newline go to that descriptor. A
// request is its length in bytes (8 bytes, little-endian), then NUL-terminated strings: the file
// for the child's standard output ("-": this process's), NAME=VALUE settings of the child's
// environment, "--", the arguments; an empty string ends it (the length lets a child read its own
// request and no byte of the next one). The end of the input ends the server. A replayed chunk then costs a fork
// instead of starting and linking a new process (brianlearn.forkserver); the fork is made ahead:
// a spare child waits for the next request, the server forks the one after while it runs, and a
// child answers once its main has returned (its exit and reaping come after the answer). Requests
// run one after the other: a spare reads its request only once the child before it has answered,
// so a client may send the next request before the answer (a chunk whose run arguments are the
// results of the one before: brianlearn.chain). On
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

static bool _bl_read_all(int fd, char *data, size_t length)
{
    while (length) {
        const ssize_t n = read(fd, data, length);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        length -= n;
    }
    return true;
}

// A spare child: once the server says go (a byte on "go": the child before it has answered),
// reads one request from the server's input ("S" to the server once it has it; nothing where the
// input ended), runs it and writes its exit status and a newline to "status", then exits.
static void _bl_spare(int go, int status, pid_t server, char *program)
{
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != server)
        std::_Exit(125);
#endif
    char byte;
    const bool going = _bl_read_all(go, &byte, 1);
    close(go);
    if (!going)
        std::_Exit(0);
    // (exactly one request's bytes: the next one may be waiting behind it)
    unsigned char head[8];
    std::vector<std::string> fields;
    if (_bl_read_all(0, (char *)head, 8)) {
        unsigned long long length = 0;
        for (int i = 7; i >= 0; i--)
            length = (length << 8) | head[i];
        std::string body(length < (1ull << 30) ? length : 0, '\\0');
        if (!body.empty() && _bl_read_all(0, &body[0], length)) {
            size_t start = 0, end;
            while ((end = body.find('\\0', start)) != std::string::npos && end > start) {
                fields.push_back(body.substr(start, end - start));
                start = end + 1;
            }
        }
    }
    if (fields.empty() || write(status, "S", 1) != 1)
        std::_Exit(0);
    const int code = _bl_child(fields, program);
    std::cout.flush();
    std::fflush(NULL);
    char text[16];
    const int length = std::snprintf(text, sizeof text, "%d\\n", code);
    if (write(status, text, length) != length)
        std::_Exit(code);
    close(status);
    std::exit(code);
}

struct _bl_spare_child {
    pid_t pid;
    int go, status;  // (the server's ends of its pipes)
};

static bool _bl_fork_spare(_bl_spare_child &spare, int reply, char *program)
{
    int go[2], status[2];
    if (pipe(go) != 0)
        return false;
    if (pipe(status) != 0) {
        close(go[0]);
        close(go[1]);
        return false;
    }
    const pid_t server = getpid();
    spare.pid = fork();
    if (spare.pid == 0) {
        close(go[1]);
        close(status[0]);
        close(reply);
        _bl_spare(go[0], status[1], server, program);
    }
    close(go[0]);
    close(status[1]);
    if (spare.pid < 0) {
        close(go[1]);
        close(status[0]);
        return false;
    }
    spare.go = go[1];
    spare.status = status[0];
    return true;
}

static bool _bl_go(_bl_spare_child &spare)
{
    const bool given = write(spare.go, "G", 1) == 1;
    close(spare.go);
    return given;
}

static int _bl_exit_status(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 126;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int _bl_serve(int reply, char *program)
{
    _bl_spare_child current, next;
    if (!_bl_fork_spare(current, reply, program) || !_bl_go(current))
        return 1;
    for (;;) {
        char started = 0;
        ssize_t n;
        while ((n = read(current.status, &started, 1)) < 0 && errno == EINTR) {}
        if (n != 1) {  // (the end of the input)
            close(current.status);
            _bl_exit_status(current.pid);
            return 0;
        }
        const bool spare = _bl_fork_spare(next, reply, program);
        std::string line;
        char c;
        while ((n = read(current.status, &c, 1)) == 1 || (n < 0 && errno == EINTR))
            if (n == 1 && (line += c, c == '\\n'))
                break;
        close(current.status);
        const bool answered = !line.empty() && line[line.size() - 1] == '\\n';
        if (!answered)  // (it died: its status says how)
            line = std::to_string(_bl_exit_status(current.pid)) + "\\n";
        const bool going = spare && _bl_go(next);  // (before the answer: the next request may be waiting)
        if (write(reply, line.data(), line.size()) != (ssize_t)line.size())
            return 1;
        if (answered)
            _bl_exit_status(current.pid);
        if (!going)
            return 1;
        current = next;
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
