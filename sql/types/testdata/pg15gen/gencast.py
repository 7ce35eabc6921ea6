import subprocess, sys
out=[]
for line in open('sql/types/testdata/pg15gen/casts.txt',encoding='utf-8'):
    line=line.rstrip('\n')
    if not line: continue
    f,v,to=line.split('\t')
    for tz in ['UTC','Europe/Amsterdam']:
        sql="set timezone='%s'; select ($q$%s$q$::%s)::%s" % (tz,v,f,to)
        p=subprocess.run(['psql','-h','127.0.0.1','-p','55433','-U','postgres','-AtXq','-v','VERBOSITY=verbose','-c',sql],capture_output=True,text=True)
        if p.returncode==0:
            res='ok\t'+p.stdout.rstrip('\n').replace('\\','\\\\').replace('\t','\\t')
        else:
            first=p.stderr.split('\n')[0]
            rest=first[len('ERROR:  '):]
            code,msg=rest.split(': ',1)
            res='err\t'+code+'\t'+msg
        out.append('%s\t%s\t%s\t%s\t%s'%(f,tz,v.replace('\\','\\\\'),to,res))
open(sys.argv[1],'w',encoding='utf-8').write('# from\ttimezone\tinput\tto\tok|err\toutput | code\tmessage\n# Generated from PostgreSQL 15.18: SELECT ($q$input$q$::from)::to (an explicit cast).\n'+'\n'.join(out)+'\n')
