import subprocess, sys
out = []
for line in open('sql/types/testdata/pg15gen/cases.txt', encoding='utf-8'):
    line = line.rstrip('\n')
    if not line: continue
    typ, val = line.split('\t', 1)
    for tz in (['UTC', 'Europe/Amsterdam'] if 'time zone' in typ and typ.startswith('timestamp with') else ['UTC']):
        sql = "set timezone='%s'; select $q$%s$q$::%s" % (tz, val, typ)
        p = subprocess.run(['psql','-h','127.0.0.1','-p','55433','-U','postgres','-AtXq','-v','VERBOSITY=verbose','-c',sql], capture_output=True, text=True)
        if p.returncode == 0:
            res = 'ok\t' + p.stdout.rstrip('\n').replace('\\', '\\\\').replace('\t', '\\t')
        else:
            first = p.stderr.split('\n')[0]
            # ERROR:  22P02: message
            assert first.startswith('ERROR:  '), first
            rest = first[len('ERROR:  '):]
            code, msg = rest.split(': ', 1)
            res = 'err\t' + code + '\t' + msg
        val_esc = val.replace('\\', '\\\\').replace('\t', '\\t')
        out.append('%s\t%s\t%s\t%s' % (typ, tz, val_esc, res.replace('\n', '\\n')))
open(sys.argv[1], 'w', encoding='utf-8').write('# type\ttimezone\tinput\tok|err\toutput | code\tmessage\n# Generated from PostgreSQL 15.18 by running SELECT $q$input$q$::type.\n' + '\n'.join(out) + '\n')
