import subprocess, sys
send = {'boolean':'boolsend','smallint':'int2send','integer':'int4send','bigint':'int8send','real':'float4send',
 'double precision':'float8send','numeric':'numeric_send','text':'textsend','bytea':'byteasend','date':'date_send',
 'time':'time_send','timestamp without time zone':'timestamp_send','timestamp with time zone':'timestamptz_send',
 'interval':'interval_send','jsonb':'jsonb_send'}
def unesc(x):
    r=[];i=0
    while i<len(x):
        if x[i]=='\\' and i+1<len(x):
            i+=1; r.append({'t':'\t','n':'\n'}.get(x[i],x[i]))
        else: r.append(x[i])
        i+=1
    return ''.join(r)
out=[]
seen=set()
for line in open('sql/types/testdata/pg15_input_output.tsv', encoding='utf-8'):
    if line.startswith('#'): continue
    cols=line.rstrip('\n').split('\t')
    typ=cols[0]; base=typ.split('(')[0]
    if cols[3]!='ok' or base not in send or cols[1]!='UTC': continue
    val=unesc(cols[2])
    if (typ,val) in seen: continue
    seen.add((typ,val))
    if val.strip().lower() in ('now','today'): continue
    sql="set timezone='UTC'; select encode(%s($q$%s$q$::%s),'hex')" % (send[base], val, typ)
    p=subprocess.run(['psql','-h','127.0.0.1','-p','55433','-U','postgres','-AtXq','-c',sql],capture_output=True,text=True)
    assert p.returncode==0, p.stderr
    out.append('%s\t%s\t%s\t%s' % (typ, cols[2], p.stdout.strip(), cols[4]))
open(sys.argv[1],'w',encoding='utf-8').write('# type\tinput\tbinary (hex) from PostgreSQL 15 <type>send\ttext output\n'+'\n'.join(out)+'\n')
