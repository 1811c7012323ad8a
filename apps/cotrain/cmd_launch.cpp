// `cotrain launch --nproc N -- <cotrain args>`: runs N copies of this program on one
// machine as one data-parallel job (what torchrun does for Python): child i gets
// RANK=i, LOCAL_RANK=i, WORLD_SIZE=N, MASTER_ADDR=127.0.0.1 and MASTER_PORT.
// Ctrl-C / SIGTERM are forwarded to every child (each then saves a checkpoint and
// stops, in step with the others). When one child fails, the others are stopped
// (SIGTERM, then SIGKILL after a grace period) and the first failure's status is
// returned: its exit code, or 128 + the signal that killed it.
#include <CLI/CLI.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "cotrain/core/error.h"

namespace cotrain::app {
namespace {

volatile sig_atomic_t forwarded_signal = 0;
void remember_signal(int sig) { forwarded_signal = sig; }

// A TCP port that is free now (the kernel's choice), for the rendezvous.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("launch: cannot open a socket to choose a port: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    fail("launch: cannot choose a free port: {}", std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

struct LaunchOptions {
  int nproc = 2;
  int master_port = 0;
  double grace_seconds = 5;
  std::vector<std::string> args;
};

int launch(const LaunchOptions& o) {
  if (o.nproc < 1) fail("launch: --nproc must be at least 1 (got {})", o.nproc);
  if (o.args.empty()) fail("launch: give the cotrain command to run after '--' (e.g. -- pretrain --task mlm ...)");
  if (o.args.front() == "launch") fail("launch: the command to run cannot itself be 'launch'");
  const int port = o.master_port > 0 ? o.master_port : free_port();

  // Children form their own process group, so that a terminal's Ctrl-C reaches them
  // once (forwarded from here) and not twice (a second SIGINT stops a trainer at once).
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns so the signal is forwarded at once
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::vector<pid_t> children;
  auto kill_all = [&](int sig) {
    for (pid_t pid : children)
      if (pid > 0) ::kill(pid, sig);
  };
  for (int rank = 0; rank < o.nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      kill_all(SIGKILL);
      fail("launch: cannot start process {}: {}", rank, std::strerror(errno));
    }
    if (pid == 0) {
      ::setpgid(0, 0);
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> argv;
      std::string self = "cotrain";
      argv.push_back(self.data());
      std::vector<std::string> copy = o.args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "cotrain: error: launch: cannot run /proc/self/exe: %s\n", std::strerror(errno));
      ::_exit(127);
    }
    children.push_back(pid);
  }

  int first_failure = 0, running = o.nproc, sent = 0;
  std::chrono::steady_clock::time_point stop_started;
  bool stopping = false;
  while (running > 0) {
    if (forwarded_signal && forwarded_signal != sent) {
      sent = forwarded_signal;
      kill_all(sent);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, stopping ? WNOHANG : 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // no children left
    }
    if (pid == 0) {  // stopping others after a failure: escalate after the grace period
      if (std::chrono::steady_clock::now() - stop_started > std::chrono::duration<double>(o.grace_seconds))
        kill_all(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    for (auto& c : children)
      if (c == pid) c = -1;
    --running;
    const int code = exit_status(status);
    if (code != 0 && first_failure == 0) {
      first_failure = code;
      if (running > 0) {
        std::fprintf(stderr, "cotrain: launch: a process failed (status %d); stopping the other %d\n", code, running);
        kill_all(SIGTERM);
        stopping = true;
        stop_started = std::chrono::steady_clock::now();
      }
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return first_failure;
}

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<LaunchOptions>();
  cmd.add_option("--nproc", o->nproc, "processes to run on this machine")->default_val(2);
  cmd.add_option("--master-port", o->master_port, "rendezvous TCP port (0: a free port chosen here)")->default_val(0);
  cmd.add_option("--grace", o->grace_seconds,
                 "seconds the other processes get to stop after one fails, before SIGKILL")->default_val(5);
  cmd.add_option("command", o->args, "the cotrain command and its arguments, after '--'")->required();
  cmd.footer(
      "Examples:\n"
      "  cotrain launch --nproc 2 -- pretrain --task mlm --config configs/mlm-tiny.yaml --data c.txt --vocab v.txt "
      "--out runs/x --set trainer.threads=1\n"
      "trainer.batch_size is the global batch, split evenly over the processes; only rank 0 writes the run folder.\n"
      "On several machines use torchrun-style variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) or srun: see "
      "README, 'Several processes and machines'.");
  return [o] { return launch(*o); };
}

Registration reg("launch", "run a training command as N data-parallel processes on this machine", setup);

}  // namespace
}  // namespace cotrain::app
