#include <cstdio>
int main() { std::puts("seek"); return 0; }
