/*
 * minivm: a tiny expression language compiled to bytecode and run by a stack
 * VM. run(n) parses the program below (recursive descent, single pass,
 * forward references resolved by name), then evaluates main(i) for
 * i = 0 .. n-1 in the VM. Every bytecode CALL is a recursive C call of
 * vm_call, so the kernel stresses switch dispatch, unpredictable branches and
 * call/return; the parser adds byte-at-a-time string scanning.
 *
 * run(n) -> i64: a hash of all main(i) results; -1 if the program fails to
 * compile, -2 on a VM error (stack depth).
 */
#include "common.h"

static const char program[] =
    "fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2);\n"
    "collatz(x, steps) = x == 1 ? steps\n"
    "                  : collatz(x % 2 == 0 ? x / 2 : 3 * x + 1, steps + 1);\n"
    "gcd(a, b) = b == 0 ? a : gcd(b, a % b);\n"
    "poly(x) = ((3 * x - 7) * x + 11) * x - -5;\n"
    "main(i) = fib(i % 13) + collatz(i % 997 + 1, 0) * 3\n"
    "        + gcd(i * 7 + 3, 1071) - poly(i % 50);\n";

enum op {
    OP_CONST, /* imm: push imm */
    OP_ARG,   /* idx: push argument idx */
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG,
    OP_LT, OP_GT, OP_EQ,
    OP_JZ,    /* target: pop, jump if zero */
    OP_JMP,   /* target */
    OP_CALL,  /* func, argc: pop argc values, push the result */
    OP_RET,   /* return the top of the stack */
};

#define MAX_CODE 2048
#define MAX_FUNCS 16
#define MAX_PARAMS 4
#define MAX_STACK 16
#define MAX_DEPTH 1000
#define NAME_LEN 16

struct func {
    char name[NAME_LEN];
    int32_t entry;
    int32_t arity; /* -1 until first seen */
    int32_t defined;
};

static int32_t code[MAX_CODE];
static int32_t code_len;
static struct func funcs[MAX_FUNCS];
static int32_t func_count;

/* Parser state. */
static int32_t pos;
static int32_t failed;
static int32_t depth, max_depth; /* operand stack depth of the code being emitted */
static char params[MAX_PARAMS][NAME_LEN];
static int32_t param_count;

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int names_equal(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static void skip_ws(void) {
    while (program[pos] == ' ' || program[pos] == '\n' || program[pos] == '\t') pos++;
}

static int accept(char c) {
    skip_ws();
    if (program[pos] != c) return 0;
    pos++;
    return 1;
}

static void expect(char c) {
    if (!accept(c)) failed = 1;
}

/* Emits one word; `effect` is the op's change of operand stack depth. */
static void emit(int32_t word, int32_t effect) {
    if (code_len >= MAX_CODE) {
        failed = 1;
        return;
    }
    code[code_len++] = word;
    depth += effect;
    if (depth > max_depth) max_depth = depth;
}

static int read_ident(char out[NAME_LEN]) {
    skip_ws();
    if (!is_alpha(program[pos])) return 0;
    int32_t len = 0;
    while (is_alpha(program[pos]) || is_digit(program[pos])) {
        if (len == NAME_LEN - 1) {
            failed = 1;
            return 0;
        }
        out[len++] = program[pos++];
    }
    out[len] = 0;
    return 1;
}

static int32_t func_index(const char *name, int32_t arity) {
    int32_t i = 0;
    for (; i < func_count; i++)
        if (names_equal(funcs[i].name, name)) break;
    if (i == func_count) {
        if (func_count == MAX_FUNCS) {
            failed = 1;
            return 0;
        }
        func_count++;
        memcpy(funcs[i].name, name, NAME_LEN);
        funcs[i].arity = -1;
        funcs[i].defined = 0;
    }
    if (funcs[i].arity == -1) funcs[i].arity = arity;
    else if (funcs[i].arity != arity) failed = 1;
    return i;
}

static void expr(void);

static void primary(void) {
    char name[NAME_LEN];
    skip_ws();
    if (is_digit(program[pos])) {
        int32_t v = 0;
        while (is_digit(program[pos])) {
            if (v > 100000000) failed = 1;
            v = v * 10 + (program[pos++] - '0');
        }
        emit(OP_CONST, 1);
        emit(v, 0);
    } else if (read_ident(name)) {
        if (accept('(')) {
            int32_t argc = 0;
            if (!accept(')')) {
                do {
                    expr();
                    argc++;
                } while (!failed && accept(','));
                expect(')');
            }
            int32_t f = func_index(name, argc);
            emit(OP_CALL, 1 - argc);
            emit(f, 0);
            emit(argc, 0);
        } else {
            int32_t i = 0;
            while (i < param_count && !names_equal(params[i], name)) i++;
            if (i == param_count) failed = 1;
            emit(OP_ARG, 1);
            emit(i, 0);
        }
    } else if (accept('(')) {
        expr();
        expect(')');
    } else {
        failed = 1;
    }
}

static void unary(void) {
    if (accept('-')) {
        unary();
        emit(OP_NEG, 0);
    } else {
        primary();
    }
}

static void term(void) {
    unary();
    while (!failed) {
        int32_t op;
        if (accept('*')) op = OP_MUL;
        else if (accept('/')) op = OP_DIV;
        else if (accept('%')) op = OP_MOD;
        else break;
        unary();
        emit(op, -1);
    }
}

static void sum(void) {
    term();
    while (!failed) {
        int32_t op;
        if (accept('+')) op = OP_ADD;
        else if (accept('-')) op = OP_SUB;
        else break;
        term();
        emit(op, -1);
    }
}

static void comparison(void) {
    sum();
    skip_ws();
    int32_t op = -1;
    if (program[pos] == '=' && program[pos + 1] == '=') {
        pos += 2;
        op = OP_EQ;
    } else if (accept('<')) {
        op = OP_LT;
    } else if (accept('>')) {
        op = OP_GT;
    }
    if (op >= 0) {
        sum();
        emit(op, -1);
    }
}

/* expr := comparison ('?' expr ':' expr)? */
static void expr(void) {
    comparison();
    if (failed || !accept('?')) return;
    emit(OP_JZ, -1);
    int32_t to_else = code_len;
    emit(0, 0);
    expr();
    emit(OP_JMP, -1); /* the then-value leaves the stack on this path */
    int32_t to_end = code_len;
    emit(0, 0);
    if (to_else < MAX_CODE) code[to_else] = code_len;
    expect(':');
    expr();
    if (to_end < MAX_CODE) code[to_end] = code_len;
}

static void definition(void) {
    char name[NAME_LEN];
    if (!read_ident(name)) {
        failed = 1;
        return;
    }
    param_count = 0;
    expect('(');
    if (!accept(')')) {
        do {
            if (param_count == MAX_PARAMS || !read_ident(params[param_count])) {
                failed = 1;
                return;
            }
            param_count++;
        } while (accept(','));
        expect(')');
    }
    expect('=');
    int32_t f = func_index(name, param_count);
    if (failed || funcs[f].defined) {
        failed = 1;
        return;
    }
    funcs[f].defined = 1;
    funcs[f].entry = code_len;
    depth = max_depth = 0;
    expr();
    emit(OP_RET, 0);
    if (max_depth > MAX_STACK) failed = 1;
    expect(';');
}

static int compile(void) {
    pos = 0;
    failed = 0;
    code_len = 0;
    func_count = 0;
    skip_ws();
    while (!failed && program[pos]) {
        definition();
        skip_ws();
    }
    for (int32_t i = 0; i < func_count; i++)
        if (!funcs[i].defined) failed = 1;
    return !failed;
}

static int32_t vm_failed;

static int64_t vm_call(int32_t f, const int64_t *args, int32_t call_depth) {
    if (call_depth > MAX_DEPTH) {
        vm_failed = 1;
        return 0;
    }
    int64_t locals[MAX_PARAMS];
    int64_t stack[MAX_STACK];
    int32_t sp = 0;
    for (int32_t i = 0; i < funcs[f].arity; i++) locals[i] = args[i];
    int32_t pc = funcs[f].entry;
    for (;;) {
        int64_t x, y;
        switch (code[pc++]) {
        case OP_CONST: stack[sp++] = code[pc++]; break;
        case OP_ARG: stack[sp++] = locals[code[pc++]]; break;
        case OP_ADD: sp--; stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] + (uint64_t)stack[sp]); break;
        case OP_SUB: sp--; stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] - (uint64_t)stack[sp]); break;
        case OP_MUL: sp--; stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] * (uint64_t)stack[sp]); break;
        case OP_DIV:
            sp--;
            x = stack[sp - 1];
            y = stack[sp];
            stack[sp - 1] = (y == 0 || (y == -1 && x == INT64_MIN)) ? 0 : x / y;
            break;
        case OP_MOD:
            sp--;
            x = stack[sp - 1];
            y = stack[sp];
            stack[sp - 1] = (y == 0 || y == -1) ? 0 : x % y;
            break;
        case OP_NEG: stack[sp - 1] = (int64_t)(0 - (uint64_t)stack[sp - 1]); break;
        case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_GT: sp--; stack[sp - 1] = stack[sp - 1] > stack[sp]; break;
        case OP_EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
        case OP_JZ:
            sp--;
            pc = stack[sp] == 0 ? code[pc] : pc + 1;
            break;
        case OP_JMP: pc = code[pc]; break;
        case OP_CALL: {
            int32_t g = code[pc];
            int32_t argc = code[pc + 1];
            pc += 2;
            sp -= argc;
            x = vm_call(g, stack + sp, call_depth + 1);
            if (vm_failed) return 0;
            stack[sp++] = x;
            break;
        }
        case OP_RET: return stack[sp - 1];
        default: vm_failed = 1; return 0;
        }
    }
}

EXPORT_RUN int64_t minivm_run(int32_t n) {
    if (!compile()) return -1;
    int32_t main_fn = -1;
    for (int32_t i = 0; i < func_count; i++)
        if (names_equal(funcs[i].name, "main") && funcs[i].arity == 1) main_fn = i;
    if (main_fn < 0) return -1;
    vm_failed = 0;
    uint64_t h = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t arg = i;
        int64_t r = vm_call(main_fn, &arg, 0);
        if (vm_failed) return -2;
        h = mix64(h, (uint64_t)r);
    }
    return (int64_t)h;
}
